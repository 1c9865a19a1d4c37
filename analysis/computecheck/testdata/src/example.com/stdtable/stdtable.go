// Package stdtable: standard functions that read files, standard input, the environment or
// randomness; writes to standard error, which are not reads.
package stdtable

import (
	"archive/zip"
	"context"
	"crypto/x509"
	"debug/elf"
	"fmt"
	"go/build"
	"hash/maphash"
	htemplate "html/template"
	"mime"
	"net/http"
	"os"
	"runtime"
	"text/template"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
)

type Key struct{ S string }

func (Key) HashKey(*keyhash.Hasher) {}

type Out struct{ S string }

func table(ctx context.Context, c *cache.Cache, k Key) {
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		elf.Open(k.S)                  // want `compute reads the file system \(debug/elf.Open\)`
		zip.OpenReader(k.S)            // want `compute reads the file system \(archive/zip.OpenReader\)`
		template.ParseFiles(k.S)       // want `compute reads the file system \(text/template.ParseFiles\)`
		htemplate.ParseGlob(k.S)       // want `compute reads the file system \(html/template.ParseGlob\)`
		build.Import(k.S, "", 0)       // want `compute reads the file system \(go/build.Import\)`
		_ = build.Default.GOPATH       // want `compute reads the environment \(go/build.Default\)`
		t := mime.TypeByExtension(k.S) // want `compute reads the file system \(mime.TypeByExtension\)`
		x509.SystemCertPool()          // want `compute reads the file system \(crypto/x509.SystemCertPool\)`
		r := runtime.GOROOT()          // want `compute reads the environment \(runtime.GOROOT\)`
		req, _ := http.NewRequest("GET", k.S, nil)
		http.DefaultTransport.RoundTrip(req) // want `compute uses the network \(net/http.DefaultTransport\)`
		var s string
		fmt.Scanln(&s)                               // want `compute reads standard input \(fmt.Scanln\)`
		h := maphash.String(maphash.MakeSeed(), k.S) // want `compute reads random numbers \(hash/maphash.MakeSeed\)`
		return Out{S: t + r + s + fmt.Sprint(h)}, nil
	})
	cache.Load(ctx, c, k, func(_ context.Context, k Key) (Out, error) {
		os.Stderr.WriteString("computing " + k.S + "\n")
		fmt.Fprintln(os.Stdout, "computing", k.S)
		return Out{S: k.S}, nil
	})
}
