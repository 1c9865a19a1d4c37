module github.com/cachegen/cachegen

go 1.26.0

require (
	github.com/aymanbagabas/go-udiff v0.4.1
	github.com/dave/jennifer v1.7.1
	github.com/klauspost/compress v1.20.3
	github.com/mitchellh/hashstructure/v2 v2.0.2
	github.com/tinylib/msgp v1.6.5
	golang.org/x/tools v0.52.0
)

require (
	github.com/philhofer/fwd v1.2.0 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
)
