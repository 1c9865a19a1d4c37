package input_test

//cachegen:value
type InExternalTest struct{ A int }
