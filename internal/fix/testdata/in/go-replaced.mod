module example.com/shop

go 1.22

require golang.org/x/text v0.3.5

replace golang.org/x/text => ../text
