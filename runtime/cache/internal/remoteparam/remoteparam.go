// Package remoteparam reads the parameters that the remote engines share in their URLs.
package remoteparam

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseSize reads a size: a number of bytes with an optional suffix K, M or G (powers of
// 1024, with or without "iB" or "B").
func ParseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(s), "B"), "I")
	shift := 0
	switch {
	case strings.HasSuffix(t, "K"):
		shift = 10
	case strings.HasSuffix(t, "M"):
		shift = 20
	case strings.HasSuffix(t, "G"):
		shift = 30
	}
	if shift != 0 {
		t = t[:len(t)-1]
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q is not a positive size such as 64MiB", s)
	}
	return n << shift, nil
}

// CheckKey refuses what is not a key of a Cache: 64 lowercase hexadecimal digits. engine
// names the package in the error.
func CheckKey(engine, key string) error {
	if len(key) != 64 {
		return fmt.Errorf("%s: key %q is not 64 hexadecimal digits", engine, key)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%s: key %q is not 64 lowercase hexadecimal digits", engine, key)
		}
	}
	return nil
}
