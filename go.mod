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
	github.com/BurntSushi/toml v1.4.1-0.20240526193622-a339e1f7089c // indirect
	github.com/philhofer/fwd v1.2.0 // indirect
	golang.org/x/exp/typeparams v0.0.0-20231108232855-2478ac86f678 // indirect
	golang.org/x/mod v0.42.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	honnef.co/go/tools v0.8.2 // indirect
)

tool (
	github.com/cachegen/cachegen/cmd/cachegen-vet
	honnef.co/go/tools/cmd/staticcheck
)
