module github.com/cachegen/cachegen/examples/esbuild

go 1.26.0

require github.com/cachegen/cachegen v0.0.0

require (
	github.com/aymanbagabas/go-udiff v0.4.1 // indirect
	github.com/dave/jennifer v1.7.1 // indirect
	github.com/evanw/esbuild v0.28.2
	github.com/klauspost/compress v1.20.3 // indirect
	github.com/philhofer/fwd v1.2.0 // indirect
	github.com/tinylib/msgp v1.6.5 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/tools v0.52.0 // indirect
)

replace github.com/cachegen/cachegen => ../..

tool (
	github.com/cachegen/cachegen/cmd/cachegen
	github.com/cachegen/cachegen/cmd/cachegen-vet
)
