// Package deepvar declares a setting.
package deepvar

var Mode = "a"
