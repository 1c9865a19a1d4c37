// Package esbuild caches esbuild's JavaScript and TypeScript transforms on disk, keyed on
// esbuild's own public options type, api.TransformOptions, with nothing excluded.
//
// api.TransformOptions belongs to esbuild, so its fields cannot be tagged; cachegen hashes it
// field by field anyway (every field is exported), guards its shape at compile time (an
// esbuild upgrade that changes the struct breaks the build until go generate runs again), and
// takes the one field it cannot hash by itself, MangleCache (a map of interface values), from
// hashMangleCache below. Every option that shapes the output is in the key: a changed
// --define value, target or minify flag is a miss, never the other build's output.
package esbuild

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cachegen/cachegen/runtime/cache"
	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/evanw/esbuild/pkg/api"
)

//go:generate go tool cachegen

// Input is what a transform depends on: the source and every option. (The esbuild version is
// part of the program's build information, which separates the cache's entries by itself.)
//
//cachegen:key
type Input struct {
	Source  string
	Options api.TransformOptions
}

// Output is what a transform produces, as the cache stores it.
//
//cachegen:value
type Output struct {
	Code          []byte
	Map           []byte
	LegalComments []byte
	// Warnings are esbuild's warnings, formatted as esbuild prints them.
	Warnings []string
	// MangleCache is the result's mangle cache: property names and their new names, or
	// false for a name that must not be renamed (as esbuild's API has it, one map of
	// strings and false).
	MangleCache map[string]string
	Unmangled   []string
}

// hashMangleCache hashes api.TransformOptions.MangleCache, whose values esbuild's API
// documents as a string (the new name of a property) or false (a property never renamed).
// Anything else is esbuild's to refuse: it is hashed by its type and printed value, so that
// it still cannot share a key with another value.
//
//cachegen:hash
func hashMangleCache(h *keyhash.Hasher, m map[string]any) {
	h.Map("MangleCache", len(m))
	for k, v := range m {
		h.Entry()
		h.String("key", k)
		switch v := v.(type) {
		case string:
			h.Uint8("kind", 0)
			h.String("value", v)
		case bool:
			h.Uint8("kind", 1)
			h.Bool("value", v)
		default:
			h.Uint8("kind", 2)
			h.String("value", fmt.Sprintf("%T %#v", v, v))
		}
	}
	h.EndMap()
}

// Transform runs api.Transform on source with opts, through c: the same source and options
// again (in this process or another) load the stored output instead. esbuild's errors are
// returned, and not cached.
func Transform(ctx context.Context, c *cache.Cache, source string, opts api.TransformOptions) (Output, error) {
	return cache.Load(ctx, c, Input{Source: source, Options: opts}, transform)
}

// transform is the computation: it reads nothing but its input.
func transform(_ context.Context, in Input) (Output, error) {
	res := api.Transform(in.Source, in.Options)
	if len(res.Errors) > 0 {
		msgs := api.FormatMessages(res.Errors, api.FormatMessagesOptions{Kind: api.ErrorMessage})
		return Output{}, errors.New(strings.Join(msgs, ""))
	}
	out := Output{
		Code:          res.Code,
		Map:           res.Map,
		LegalComments: res.LegalComments,
		Warnings:      api.FormatMessages(res.Warnings, api.FormatMessagesOptions{Kind: api.WarningMessage}),
	}
	for name, v := range res.MangleCache {
		switch v := v.(type) {
		case string:
			if out.MangleCache == nil {
				out.MangleCache = map[string]string{}
			}
			out.MangleCache[name] = v
		default:
			out.Unmangled = append(out.Unmangled, name)
		}
	}
	slices.Sort(out.Unmangled)
	return out, nil
}

// MangleCacheOf returns the output's mangle cache in the form api.TransformOptions takes.
func (o Output) MangleCacheOf() map[string]any {
	if o.MangleCache == nil && o.Unmangled == nil {
		return nil
	}
	m := make(map[string]any, len(o.MangleCache)+len(o.Unmangled))
	for k, v := range o.MangleCache {
		m[k] = v
	}
	for _, k := range o.Unmangled {
		m[k] = false
	}
	return m
}
