package input

type Size int32
