package redisremote

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cachegen/cachegen/runtime/cache"
)

// TestRespGuardFraming: replies within the bounds pass, read in pieces of any size (a
// header line split anywhere, a value whose bytes look like headers); each claim over the
// bounds is caught.
func TestRespGuardFraming(t *testing.T) {
	value := "x\r\n$99999999999\r\n*99999\r\n"
	good := "+OK\r\n-ERR no\r\n:42\r\n$-1\r\n*-1\r\n_\r\n" +
		"$" + strconv.Itoa(len(value)) + "\r\n" + value + "\r\n" +
		"%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n" +
		"*2\r\n$1\r\na\r\n=8\r\ntxt:abcd\r\n"
	for step := 1; step <= len(good); step++ {
		g := respGuard{maxBulk: 64}
		for i := 0; i < len(good); i += step {
			if !g.check([]byte(good[i:min(i+step, len(good))])) {
				t.Fatalf("pieces of %d: a good stream refused at byte %d", step, i)
			}
		}
		if g.typ != 0 || g.skip != 0 {
			t.Fatalf("pieces of %d: the stream ends inside an element", step)
		}
	}
	for _, bad := range []string{
		"$65\r\n", "$9000000000000000000\r\n", "$-2\r\n", "$x\r\n", "*4097\r\n", "%2000000000\r\n",
		"~5000\r\n", "!1000\r\n", "+" + strings.Repeat("a", maxLine+1),
	} {
		g := respGuard{maxBulk: 64}
		if g.check([]byte(bad)) {
			t.Errorf("%q passed", bad)
		}
	}
}

// TestHostileServerClaims: a server that answers a Get with a huge claim makes it fail at
// once, without the allocation the claim asks for and without crashing the program.
func TestHostileServerClaims(t *testing.T) {
	for _, claim := range []string{"$1000000000\r\n", "$9000000000000000000\r\n", "*2000000000\r\n", "%1000000000\r\n"} {
		addr := hostileRedis(t, claim)
		r, err := cache.OpenRemote("redis://"+addr+"/0?maxsize=1MiB", cache.RemoteConfig{RequestTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = r.Get(ctx, strings.Repeat("ab", 32), 1<<20)
		cancel()
		runtime.ReadMemStats(&after)
		r.Close()
		if err == nil {
			t.Fatalf("claim %q: Get succeeded", claim)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
			t.Errorf("claim %q: Get allocated %d MiB", claim, d>>20)
		}
	}
}

// hostileRedis serves a Redis that refuses HELLO (so the client speaks RESP2), accepts the
// other set-up commands, and answers every other command with claim and nothing more.
func hostileRedis(t *testing.T, claim string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					args, err := readCommand(br)
					if err != nil {
						return
					}
					switch strings.ToUpper(args[0]) {
					case "HELLO":
						c.Write([]byte("-ERR unknown command 'HELLO'\r\n"))
					case "CLIENT", "SELECT", "PING", "AUTH":
						c.Write([]byte("+OK\r\n"))
					default:
						c.Write([]byte(claim))
						time.Sleep(100 * time.Millisecond)
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// readCommand reads one command a client sends: an array of bulk strings.
func readCommand(br *bufio.Reader) ([]string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	var args []string
	for range n {
		if _, err := br.ReadString('\n'); err != nil { // $len
			return nil, err
		}
		arg, err := br.ReadString('\n')
		if err != nil {
			return nil, err
		}
		args = append(args, string(bytes.TrimRight([]byte(arg), "\r\n")))
	}
	if len(args) == 0 {
		args = []string{""}
	}
	return args, nil
}
