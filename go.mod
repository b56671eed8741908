module github.com/provenant/provenant

go 1.25.8

require github.com/go-jose/go-jose/v4 v4.1.4
