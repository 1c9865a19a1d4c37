// Package sibvar declares a variable that sibset assigns and sibread's compute reads.
package sibvar

var Level int
