package computecheck

import (
	"go/types"
	"strings"
)

// An ambient input is something a computation can read that no key holds: the environment,
// the clock, random numbers, the file system, the network, other processes. Each category has
// the words of its report and the fix.
type category struct {
	what string // "reads the file system"
	fix  string // "put the file's content, or its digest, in the key"
}

var (
	catEnv   = &category{"reads the environment", "put the variable's value in the key"}
	catClock = &category{"reads the clock", "put the time it needs in the key"}
	catRand  = &category{"reads random numbers", "seed a generator from a key field instead"}
	catFS    = &category{"reads the file system", "put the file's content, or its digest, in the key"}
	catNet   = &category{"uses the network", "fetch before Load and put the content, or its digest, in the key"}
	catProc  = &category{"reads the process or the machine", "put the value in the key"}
	catExec  = &category{"runs other programs", "run it before Load and put its output, or the program's version, in the key"}
	catArgs  = &category{"reads the command line", "put the flags' values in the key"}
	catStdin = &category{"reads standard input", "read it before Load and put it, or its digest, in the key"}
	catSys   = &category{"makes system calls", "put what it reads in the key"}
	catDB    = &category{"uses a database", "query it before Load and put what it reads, or its digest, in the key"}
)

// categories maps a category's words back to it, for the categories of facts.
var categories = map[string]*category{}

func init() {
	for _, c := range []*category{catEnv, catClock, catRand, catFS, catNet, catProc, catExec, catArgs, catStdin, catSys, catDB} {
		categories[c.what] = c
	}
}

// osPure are the functions of package os that read nothing outside the program.
var osPure = set("IsExist", "IsNotExist", "IsPermission", "IsTimeout", "NewSyscallError", "Exit",
	"Expand", "Setenv", "Unsetenv", "Clearenv", "IsPathSeparator", "SameFile")

var osCats = map[string]*category{
	"Getenv": catEnv, "LookupEnv": catEnv, "Environ": catEnv, "ExpandEnv": catEnv,
	"UserHomeDir": catEnv, "UserCacheDir": catEnv, "UserConfigDir": catEnv, "TempDir": catEnv,
	"Getpid": catProc, "Getppid": catProc, "Getuid": catProc, "Geteuid": catProc, "Getgid": catProc,
	"Getegid": catProc, "Getgroups": catProc, "Hostname": catProc, "Executable": catProc,
	"Getpagesize": catProc, "FindProcess": catExec, "StartProcess": catExec,
}

var timeClock = set("Now", "Since", "Until", "Tick", "After", "AfterFunc", "NewTimer", "NewTicker")

// randSeeded are the functions of math/rand and math/rand/v2 that make a generator from a
// seed: what it draws depends on the seed only.
var randSeeded = set("New", "NewSource", "NewZipf", "NewPCG", "NewChaCha8")

var netPrefixes = []string{"Dial", "Listen", "Lookup", "Resolve", "Interface", "File"}

var netTypes = set("Dialer", "Resolver", "ListenConfig", "TCPConn", "UDPConn", "UnixConn", "IPConn",
	"TCPListener", "UnixListener", "Interface", "conn")

var httpFuncs = set("Get", "Head", "Post", "PostForm", "ListenAndServe", "ListenAndServeTLS", "Serve", "ServeTLS")

var httpTypes = set("Client", "Transport", "Server")

// ambientFunc returns the category of a standard library function or method that reads an
// ambient input, or nil for one that depends on its arguments only (strings, sort, fmt.Sprintf,
// and everything not listed here: precision over recall).
func ambientFunc(fn *types.Func) *category {
	name := fn.Name()
	recv := recvName(fn)
	switch fn.Pkg().Path() {
	case "os":
		switch recv {
		case "":
			if osPure[name] {
				return nil
			}
			if c := osCats[name]; c != nil {
				return c
			}
			return catFS // Open, ReadFile, Stat, ReadDir, Create, DirFS, Getwd, ...
		case "File", "Root":
			return catFS
		case "Process":
			return catExec
		}
	case "io/ioutil":
		switch name {
		case "ReadFile", "ReadDir", "WriteFile", "TempDir", "TempFile":
			return catFS
		}
	case "path/filepath":
		switch name {
		case "Walk", "WalkDir", "Glob", "EvalSymlinks", "Abs":
			return catFS
		}
	case "time":
		if recv == "" && timeClock[name] {
			return catClock
		}
		if recv == "" && name == "LoadLocation" {
			return catFS
		}
		if recv == "Time" && name == "Local" {
			return catEnv // the local time zone: TZ
		}
	case "math/rand", "math/rand/v2":
		if recv == "" && !randSeeded[name] {
			return catRand
		}
	case "crypto/rand":
		return catRand
	case "net":
		if recv == "" {
			for _, p := range netPrefixes {
				if strings.HasPrefix(name, p) {
					return catNet
				}
			}
		} else if netTypes[recv] {
			return catNet
		}
	case "net/http":
		if (recv == "" && httpFuncs[name]) || httpTypes[recv] {
			return catNet
		}
		if recv == "Dir" {
			return catFS
		}
	case "net/rpc", "net/smtp":
		return catNet
	case "os/exec":
		return catExec
	case "os/user":
		return catProc
	case "runtime":
		switch name {
		case "NumCPU", "GOMAXPROCS", "NumGoroutine", "ReadMemStats", "NumCgoCall":
			return catProc
		case "GOROOT":
			return catEnv
		}
	case "syscall":
		if name == "Getenv" || name == "Environ" {
			return catEnv
		}
		return catSys
	case "flag":
		// The package's functions define, parse and read the command line's flags: a
		// pointer flag.Bool returns is written by flag.Parse.
		if recv == "" && name != "NewFlagSet" && name != "UnquoteUsage" {
			return catArgs
		}
	case "fmt":
		switch name {
		case "Scan", "Scanln", "Scanf":
			return catStdin
		}
	case "debug/elf", "debug/pe", "debug/macho", "debug/plan9obj":
		if recv == "" && (name == "Open" || name == "OpenFat") {
			return catFS
		}
	case "debug/buildinfo":
		if name == "ReadFile" {
			return catFS
		}
	case "archive/zip":
		if name == "OpenReader" {
			return catFS
		}
	case "text/template", "html/template":
		if name == "ParseFiles" || name == "ParseGlob" {
			return catFS
		}
	case "go/build":
		switch name {
		case "Import", "ImportDir":
			return catFS
		}
	case "mime":
		switch name {
		case "TypeByExtension", "ExtensionsByType":
			return catFS
		}
	case "crypto/x509":
		if name == "SystemCertPool" {
			return catFS
		}
	case "crypto/tls":
		switch name {
		case "LoadX509KeyPair":
			return catFS
		case "Dial", "DialWithDialer", "Listen":
			return catNet
		}
	case "hash/maphash":
		// Every seed is random: MakeSeed's, and the one a zero Hash picks.
		if name == "MakeSeed" || recv == "Hash" && (name == "Sum64" || name == "Sum") {
			return catRand
		}
	case "database/sql":
		switch recv {
		case "":
			if name == "Open" || name == "OpenDB" {
				return catDB
			}
		case "DB", "Conn", "Tx", "Stmt", "Row", "Rows":
			return catDB
		}
	case "go/parser":
		if name == "ParseDir" {
			return catFS
		}
	case "go/importer":
		return catFS
	case "crypto/mlkem":
		if strings.HasPrefix(name, "GenerateKey") || name == "Encapsulate" {
			return catRand
		}
	case "crypto/cipher":
		if name == "NewGCMWithRandomNonce" {
			return catRand
		}
	case "log/syslog":
		return catNet
	case "plugin":
		if name == "Open" {
			return catFS
		}
	}
	return nil
}

// ambientVar returns the category of a standard library variable that holds an ambient input.
func ambientVar(v *types.Var) *category {
	switch v.Pkg().Path() + "." + v.Name() {
	case "os.Args":
		return catArgs
	case "os.Stdin":
		return catStdin
	case "crypto/rand.Reader":
		return catRand
	case "flag.CommandLine":
		return catArgs
	case "go/build.Default":
		return catEnv
	case "net/http.DefaultTransport":
		return catNet
	case "time.Local":
		return catEnv
	}
	return nil
}

// moduleAmbientFunc returns the category of a function of a module outside the standard
// library that the analyzer describes instead of following: the system calls of
// golang.org/x/sys, the random and clock-based UUIDs of github.com/google/uuid.
func moduleAmbientFunc(fn *types.Func) *category {
	name := fn.Name()
	switch fn.Pkg().Path() {
	case "golang.org/x/sys/unix", "golang.org/x/sys/windows", "golang.org/x/sys/plan9":
		switch name {
		case "Getenv", "Environ", "GetEnvironmentVariable":
			return catEnv
		case "ByteSliceToString", "ByteSliceFromString", "BytePtrFromString", "BytePtrToString",
			"StringToUTF16", "StringToUTF16Ptr", "UTF16FromString", "UTF16PtrFromString",
			"UTF16ToString", "UTF16PtrToString", "Major", "Minor", "Mkdev":
			return nil
		}
		return catSys
	case "github.com/google/uuid", "github.com/gofrs/uuid", "github.com/gofrs/uuid/v5":
		if strings.HasPrefix(name, "New") && recvName(fn) == "" {
			return catRand
		}
	}
	return nil
}

// recvName returns the name of the type of fn's receiver, without the pointer, or "" for a
// function.
func recvName(fn *types.Func) string {
	sig, ok := fn.Type().(*types.Signature)
	if !ok || sig.Recv() == nil {
		return ""
	}
	t := sig.Recv().Type()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	if n, ok := t.(*types.Named); ok {
		return n.Obj().Name()
	}
	return ""
}

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
