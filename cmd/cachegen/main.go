// Command cachegen generates exhaustive HashKey methods for structs annotated
// //cachegen:key and msgp serializers for structs annotated //cachegen:value.
//
// Usage:
//
//	//go:generate go run github.com/cachegen/cachegen/cmd/cachegen
//	cachegen -check ./...              # exit 1 with a diff when a generated file is stale
//	cachegen cache stats|trim|clear -dir DIR
//
// See the README of github.com/cachegen/cachegen for the directives, tags and supported types.
package main

import (
	"os"

	"github.com/cachegen/cachegen/internal/cacheadmin"
	"github.com/cachegen/cachegen/internal/gen"
)

func main() {
	os.Exit(gen.Main(os.Args[1:], os.Stdout, os.Stderr, cacheadmin.Run))
}
