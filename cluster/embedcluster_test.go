package cluster

import (
	"context"
	"errors"
	"testing"
)

// TestEmbeddedClusterBadOptions: a bad listen address or route is refused
// before any node starts, marked so that serve names its flag. (Three
// members forming a cluster: TestServeEmbeddedCluster in the root package.)
func TestEmbeddedClusterBadOptions(t *testing.T) {
	for _, tt := range []struct {
		listen string
		routes []string
		want   error
	}{
		{"6222", nil, ErrClusterListen},
		{"127.0.0.1:99999", nil, ErrClusterListen},
		{"127.0.0.1:6222", []string{"http://x:1"}, ErrRoute},
		{"127.0.0.1:6222", []string{"nats://x"}, ErrRoute},
	} {
		_, err := Open(context.Background(), Options{StoreDir: t.TempDir(), Memory: true, ClusterListen: tt.listen, Routes: tt.routes})
		if !errors.Is(err, tt.want) {
			t.Errorf("listen %q routes %q: %v, want %v", tt.listen, tt.routes, err, tt.want)
		}
	}
}
