// Package xconf declares settings that other packages' init set.
package xconf

var (
	Level = "default"
	Name  = "n"
)
