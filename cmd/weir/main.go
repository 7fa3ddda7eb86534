// Command weir filters and captures packets with tcpdump's expressions.
package main

func main() {}
