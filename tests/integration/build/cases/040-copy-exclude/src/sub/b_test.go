src/sub/b_test.go
