package input

type Plain struct{ A int }
