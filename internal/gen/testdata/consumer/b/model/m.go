package model

type Mode string

type number interface{ ~int | ~int64 }

// Vec is generic over a constraint that is not exported.
type Vec[T number] []T

type unexp []unexp

// Exp is an exported alias of a recursive type that is not exported.
type Exp = unexp
