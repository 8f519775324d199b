package chatdb

import (
	"encoding/json"
	"testing"
)

func TestTargetsWithoutASchemeAreResolvedThroughDNS(t *testing.T) {
	for target, want := range map[string]string{
		"127.0.0.1:50051":                       "dns:///127.0.0.1:50051",
		"chatdb-query.chatdb:50051":             "dns:///chatdb-query.chatdb:50051",
		"dns:///chatdb-query:50051":             "dns:///chatdb-query:50051",
		"dns://10.0.0.10:53/chatdb-query:50051": "dns://10.0.0.10:53/chatdb-query:50051",
		"passthrough:///chatdb-query:50051":     "passthrough:///chatdb-query:50051",
		"unix:///run/chatdb.sock":               "unix:///run/chatdb.sock",
	} {
		if got := DNSTarget(target); got != want {
			t.Errorf("DNSTarget(%q) = %q, want %q", target, got, want)
		}
	}
}

func TestTheServiceConfigBalancesRoundRobinAndRetries(t *testing.T) {
	var config struct {
		LoadBalancingConfig []map[string]json.RawMessage `json:"loadBalancingConfig"`
		MethodConfig        []struct {
			RetryPolicy struct {
				RetryableStatusCodes []string `json:"retryableStatusCodes"`
			} `json:"retryPolicy"`
		} `json:"methodConfig"`
	}
	if err := json.Unmarshal([]byte(ServiceConfig), &config); err != nil {
		t.Fatal(err)
	}
	if len(config.LoadBalancingConfig) != 1 || config.LoadBalancingConfig[0]["round_robin"] == nil {
		t.Fatalf("load balancing is not round_robin: %v", config.LoadBalancingConfig)
	}
	if len(config.MethodConfig) != 1 || config.MethodConfig[0].RetryPolicy.RetryableStatusCodes[0] != "UNAVAILABLE" {
		t.Fatalf("retry policy missing: %+v", config.MethodConfig)
	}
}
