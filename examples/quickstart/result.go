package main

// Result is the cached value; cachegen generates its msgp serializers.
//
//cachegen:value
type Result struct {
	Primes int64
}
