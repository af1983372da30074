module example.com/drydock/mustparse

go 1.21

require golang.org/x/text v0.3.5
