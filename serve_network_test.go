package main

import (
	"net"
	"slices"
	"testing"
)

func TestNetworkURLs(t *testing.T) {
	ifaces := []net.Addr{
		&net.IPNet{IP: net.ParseIP("127.0.0.1"), Mask: net.CIDRMask(8, 32)},
		&net.IPNet{IP: net.ParseIP("192.168.1.20"), Mask: net.CIDRMask(24, 32)},
		&net.IPNet{IP: net.ParseIP("::1"), Mask: net.CIDRMask(128, 128)},
		&net.IPNet{IP: net.ParseIP("fe80::1"), Mask: net.CIDRMask(64, 128)},
		&net.IPNet{IP: net.ParseIP("2001:db8::5"), Mask: net.CIDRMask(64, 128)},
	}
	tcp := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	for _, tt := range []struct {
		name string
		ln   net.Addr
		want []string
	}{
		{"all interfaces", tcp("0.0.0.0:8080"), []string{"http://192.168.1.20:8080", "http://[2001:db8::5]:8080"}},
		{"all, IPv6", tcp("[::]:8080"), []string{"http://192.168.1.20:8080", "http://[2001:db8::5]:8080"}},
		{"loopback only", tcp("127.0.0.1:8080"), nil},
		{"one address", tcp("192.168.1.20:9000"), []string{"http://192.168.1.20:9000"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := networkURLs(tt.ln, ifaces); !slices.Equal(got, tt.want) {
				t.Errorf("networkURLs(%v) = %v, want %v", tt.ln, got, tt.want)
			}
		})
	}
}
