package cacheadmin

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// byteSize is a flag.Value for a number of bytes, written with or without a binary unit.
type byteSize int64

// sizeUnits are the units of parseSize, by their letter: binary, so K = KB = KiB = 1024.
var sizeUnits = map[string]int64{"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}

// parseSize parses a positive size in bytes: a plain number of bytes (optionally followed
// by B), or a number, possibly with a fraction, followed by K, M, G or T and optionally B or
// iB, in any case. The units are binary: K, KB and KiB all mean 1024 bytes. A fraction of a
// byte is dropped.
func parseSize(s string) (int64, error) {
	const want = "want bytes, or a number with K, M, G or T, like 500M or 1GiB"
	num := strings.TrimRight(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	unit := s[len(num):]
	num = strings.TrimSpace(num)
	switch {
	case strings.HasPrefix(num, "-"):
		return 0, errors.New("negative size")
	case strings.TrimSpace(s) == "":
		return 0, fmt.Errorf("empty size (%s)", want)
	case num == "":
		return 0, fmt.Errorf("not a size (%s)", want)
	case !isDecimal(num):
		return 0, fmt.Errorf("%q is not a number (%s)", num, want)
	}
	mult := int64(1)
	if u := strings.ToLower(unit); u != "" && u != "b" {
		m, ok := sizeUnits[u[:1]]
		if suffix := u[1:]; !ok || suffix != "" && suffix != "b" && suffix != "ib" {
			return 0, fmt.Errorf("unknown unit %q (want K, M, G or T, optionally followed by B or iB)", unit)
		}
		mult = m
	}
	var n int64
	if !strings.Contains(num, ".") {
		v, err := strconv.ParseInt(num, 10, 64)
		if err != nil || v > math.MaxInt64/mult {
			return 0, errors.New("size too large")
		}
		n = v * mult
	} else {
		if mult == 1 {
			return 0, errors.New("a number of bytes has no fraction")
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number (%s)", num, want)
		}
		if f *= float64(mult); f >= math.MaxInt64 {
			return 0, errors.New("size too large")
		}
		n = int64(f)
	}
	if n == 0 {
		return 0, errors.New("size is zero (to remove every entry, use clear)")
	}
	return n, nil
}

// isDecimal reports whether s is digits with at most one decimal point, and a digit.
func isDecimal(s string) bool {
	return strings.Trim(s, "0123456789.") == "" && strings.Count(s, ".") <= 1 && strings.Trim(s, ".") != ""
}

func (b *byteSize) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

// String formats b with the largest binary unit that divides it, so that it parses back.
func (b *byteSize) String() string {
	n := int64(*b)
	for _, u := range []struct {
		name string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// age is a flag.Value for a positive duration: a Go duration, or a number of days followed
// by d and optionally a Go duration (30d, 1.5d, 1d12h).
type age time.Duration

const day = 24 * time.Hour

// parseAge parses a positive duration: a Go duration (90m, 36h), or a number of days,
// possibly with a fraction, followed by d and optionally by a Go duration (30d, 1d12h).
func parseAge(s string) (time.Duration, error) {
	const want = "want a duration such as 90m or 36h, or days such as 30d or 1d12h"
	switch {
	case s == "":
		return 0, fmt.Errorf("empty age (%s)", want)
	case strings.HasPrefix(s, "-"):
		return 0, errors.New("negative age")
	}
	var d time.Duration
	rest := s
	if days, after, ok := strings.Cut(s, "d"); ok {
		if !isDecimal(days) {
			return 0, fmt.Errorf("%q is not a number of days (%s)", days, want)
		}
		f, err := strconv.ParseFloat(days, 64)
		if err != nil || f*float64(day) >= math.MaxInt64 {
			return 0, errors.New("age too large")
		}
		d, rest = time.Duration(f*float64(day)), after
	}
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "+") {
			return 0, fmt.Errorf("invalid duration %q (%s)", rest, want)
		}
		if d > math.MaxInt64-r {
			return 0, errors.New("age too large")
		}
		d += r
	}
	if d <= 0 {
		return 0, errors.New("age is zero (to remove every entry, use clear)")
	}
	return d, nil
}

func (a *age) Set(s string) error {
	d, err := parseAge(s)
	if err != nil {
		return err
	}
	*a = age(d)
	return nil
}

// String formats a as whole days, followed by the rest as a Go duration, so that it parses
// back: 30d, 1d12h0m0s, 90m0s.
func (a *age) String() string {
	d := time.Duration(*a)
	if d < day {
		return d.String()
	}
	s := strconv.FormatInt(int64(d/day), 10) + "d"
	if r := d % day; r != 0 {
		s += r.String()
	}
	return s
}
