module example.com/shop

go 1.22

require (
	github.com/google/go-cmp v0.6.0 // test helpers
	golang.org/x/text v0.3.5
)

require golang.org/x/net v0.0.0-20210226172049-e18ecbb05110 // indirect
