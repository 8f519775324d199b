package chatdb

import (
	"context"
	"time"

	queryv1 "github.com/chatdb/chatdb/gen/go/chatdb/query/v1"
)

// SystemStatus is the service's degradation level and each dependency's health.
type SystemStatus struct {
	// DegradationLevel is 0 (everything works) to 4 (see LevelName); -1 when unspecified.
	DegradationLevel int
	Dependencies     []Dependency
	// CheckTime is when the status was taken, in UTC.
	CheckTime time.Time
}

// Dependency is the health of one dependency ("metadata", "training", "prediction",
// "vector_store" or "dataSources/{id}") and the state of the circuit breaker in front of it.
type Dependency struct {
	Name    string
	Healthy bool
	// Detail says why it is unhealthy; empty when healthy.
	Detail string
	// BreakerState is "closed", "open" or "half-open"; empty when it has no breaker.
	BreakerState string
	FailureCount int32
}

// GetSystemStatus reports the degradation level, each dependency's health and each breaker's state.
func (c *Client) GetSystemStatus(ctx context.Context) (*SystemStatus, error) {
	reply, err := call(ctx, c, c.Query.GetSystemStatus, &queryv1.GetSystemStatusRequest{})
	if err != nil {
		return nil, err
	}
	status := &SystemStatus{DegradationLevel: Level(reply.GetDegradationLevel()),
		CheckTime: reply.GetCheckTime().AsTime().UTC()}
	for _, dependency := range reply.GetDependencies() {
		status.Dependencies = append(status.Dependencies, Dependency{Name: dependency.GetName(),
			Healthy: dependency.GetHealthy(), Detail: dependency.GetDetail(),
			BreakerState: dependency.GetBreakerState(), FailureCount: dependency.GetFailureCount()})
	}
	return status, nil
}
