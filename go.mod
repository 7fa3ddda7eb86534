module github.com/weircap/weir

go 1.24
