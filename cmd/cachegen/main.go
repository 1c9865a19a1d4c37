// Cachegen generates, for Go structs annotated //cachegen:key, exhaustive HashKey methods
// that feed every field to a keyhash.Hasher, and, for structs annotated //cachegen:value,
// msgp serializers, so that a cache key cannot silently leave an input out.
//
// # Installing and running
//
// Add cachegen to your module as a tool, and run it from go generate:
//
//	go get -tool github.com/cachegen/cachegen/cmd/cachegen
//
//	//go:generate go tool cachegen
//
// It writes one file per package, cachegen_gen.go beside your code. Usage:
//
//	go tool cachegen [-check] [-output file] [-tags tags] [packages]
//	go tool cachegen cache stats|trim|explain|clear [flags]
//	go tool cachegen version
//	go tool cachegen help [cache [stats|trim|explain|clear]]
//
// With no packages it works on the package in the current directory; packages are import
// paths or patterns, as for go build (./...). A package in a directory named cache, help or
// version is written ./cache, ./help, ./version. The flags are:
//
//	-check
//		write nothing; exit 1 with a unified diff if a generated file is missing or stale
//	-output file
//		name of the generated file in each package directory (default cachegen_gen.go)
//	-tags tags
//		comma-separated build tags to load packages with, as go build -tags
//	-version
//		print the version: the module version that go version -m shows, and the Go version
//
// The exit status is 0 on success, 1 when a package has errors or -check finds a stale
// file, and 2 for a usage error. -h, or help, prints the usage.
//
// # Directives
//
// //cachegen:key and //cachegen:value go in the doc comment of a package-level struct type;
// above a grouped declaration (type ( ... )) they apply to every struct of the group.
//
//	//cachegen:key
//
// generates HashKey(*keyhash.Hasher) only, so that the type is a keyhash.Key.
//
//	//cachegen:value
//
// generates msgp serializers: MarshalMsg, UnmarshalMsg, EncodeMsg, DecodeMsg and Msgsize. A
// key gets them only when it is annotated //cachegen:value too.
//
//	//cachegen:key exclude=Field1,Field2
//
// excludes fields of a struct you cannot tag, such as one defined over another package's
// type (type Options api.TransformOptions). The generated doc comment lists every exclusion.
//
//	//cachegen:hash
//	func hashNode(h *keyhash.Hasher, v ast.Node) { ... }
//
// on a function of the package with the signature func(h *keyhash.Hasher, v T) makes it the
// way every field of type T in the package is hashed: for interfaces (such as AST nodes) and
// types with hidden state. The generated file lists each field hashed by hand-written code,
// and the function's name is part of the key's schema fingerprint.
//
// A misspelled or misplaced directive (// cachegen:key, a directive on a field or in a
// _test.go file) is an error at its position, never silently ignored.
//
// # Field tags
//
//	cache:"-"   exclude the field from the key (values keep it); the generated doc comment lists it
//	cache:"set" hash a slice as an unordered set (duplicates count)
//	msg:"-"     leave the field out of values (msgp's own tag)
//
// cache tags are read on fields declared in the package being generated only. The cache
// tags of another package's struct (hashed field by field, or adopted as type T api.S) are
// its author's, not yours, and are ignored: exclude such fields with exclude= on the
// adopting type's directive.
//
// # Types
//
// A key may hold basic types (booleans, integers, floats, complex numbers), strings, byte
// slices, time.Time, time.Duration, pointers, slices, arrays, maps (hashed in sorted order),
// enums and other named types over these, and anonymous and named structs: those of the
// same package field by field, those of other packages field by field when all their fields
// are exported. A type with its own HashKey method is hashed by it; an interface that embeds
// keyhash.Key is hashed with its dynamic type. A type of another package with MarshalBinary
// and UnmarshalBinary, or MarshalText and UnmarshalText, is hashed by its encoding. Funcs,
// channels and other interfaces are refused with their position and a fix: exclude the
// field, or hash it with a //cachegen:hash function.
//
// # Debugging and CI
//
// Set CACHEGEN_TRACE=1 and every digest of a key is printed to standard error with the
// type, field path and value of everything its HashKey wrote: diff two runs to see why a
// key missed. Each generated file holds a compile-time guard that breaks the build when a
// struct changed since the code was generated; struct tags are invisible to it, so run
// go tool cachegen -check ./... in CI.
//
// # The cache command
//
// go tool cachegen cache inspects and maintains the directories of runtime/cache:
//
//	go tool cachegen cache stats [-dir DIR] [-namespace NS] [-json]
//	go tool cachegen cache trim  [-dir DIR] [-namespace NS] [-max-bytes SIZE] [-max-age AGE]
//	go tool cachegen cache explain [-dir DIR] [-namespace NS] [-n N]
//	go tool cachegen cache clear [-dir DIR] [-namespace NS]
//
// stats prints the entries, bytes and last use of each namespace and version (-json: one JSON
// object, times in RFC 3339); trim removes entries unused for longer than -max-age (a Go
// duration, or days: 30d), then the least recently used until each namespace fits in 90% of
// -max-bytes (bytes, or K, M, G, T with optional B or iB, binary: 1K = 1KB = 1KiB = 1024);
// explain prints the misses that programs explained lately (CACHEGEN_EXPLAIN=1 or
// cache.Options.OnMiss), with the fields that changed; clear removes everything the cache
// wrote. -dir defaults to the directory cache.Open uses when Options.Dir is empty
// (cache.DefaultDir); without -namespace, every namespace is concerned. The commands work only in directories tagged as a cache, and remove only files
// the cache wrote. Each command's -h lists its flags.
package main

import (
	"os"
	"runtime/debug"

	"github.com/cachegen/cachegen/internal/cacheadmin"
	"github.com/cachegen/cachegen/internal/gen"
)

func main() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gen.CommandGCPercent)
	}
	os.Exit(gen.Main(os.Args[1:], os.Stdout, os.Stderr, cacheadmin.Run))
}
