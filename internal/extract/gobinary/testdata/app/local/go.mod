module example.com/drydock/local

go 1.21
