// Package chatdb is a small Go client for ChatDB: a connection that carries the
// caller's credential (an API key or a token) and a request id on every call, TLS and mTLS, retries idempotent calls on
// UNAVAILABLE, balances calls over every address of the server's name (round_robin), typed decoding of result rows,
// and errors with their google.rpc details. The generated stubs (Schema, Training, Query, Prediction) are exposed
// for everything the helpers do not cover.
package chatdb

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	_ "embed" // the retry policy is embedded from service_config.json
	"encoding/hex"
	"errors"
	"io/ioutil"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"

	predictionv1 "github.com/chatdb/chatdb/gen/go/chatdb/prediction/v1"
	queryv1 "github.com/chatdb/chatdb/gen/go/chatdb/query/v1"
	schemav1 "github.com/chatdb/chatdb/gen/go/chatdb/schema/v1"
	trainingv1 "github.com/chatdb/chatdb/gen/go/chatdb/training/v1"
)

// Metadata keys every call carries.
const (
	TenantHeader        = "x-chatdb-tenant"
	RequestIDHeader     = "x-request-id"
	AuthorizationHeader = "authorization"
)

// ServiceConfig is the gRPC service config the client dials with: calls go to every
// address the target resolves to in turn (round_robin), and idempotent methods are
// retried on UNAVAILABLE with exponential backoff. (grpc-go before 1.40 applies the
// retries only when the environment has GRPC_GO_RETRY=on.)
//
//go:embed service_config.json
var ServiceConfig string

// Keepalive pings every connection every 30 s, idle or not (ChatDB's servers accept one
// every 10 s): a connection to a pod that vanished is noticed within seconds, and idle
// connections survive proxies that drop quiet ones.
var Keepalive = keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second, PermitWithoutStream: true}

// Client is a connection to a ChatDB server.
type Client struct {
	conn       *grpc.ClientConn
	tenant     string
	timeout    time.Duration
	Schema     schemav1.SchemaServiceClient
	Training   trainingv1.TrainingServiceClient
	Query      queryv1.QueryServiceClient
	Prediction predictionv1.PredictionServiceClient
}

type settings struct {
	tenant     string
	credential string
	timeout    time.Duration
	dial       []grpc.DialOption
	secure     bool
	err        error
}

// Option configures Dial.
type Option func(*settings)

// WithTenant names the tenant calls act for. The server takes the tenant from the
// credential; naming another one is allowed only to operator keys.
func WithTenant(tenant string) Option { return func(s *settings) { s.tenant = tenant } }

// WithAPIKey sends an API key with every call, as "authorization: Bearer <key>".
func WithAPIKey(key string) Option { return func(s *settings) { s.credential = key } }

// WithToken sends a JWT from the caller's identity provider with every call.
func WithToken(token string) Option { return func(s *settings) { s.credential = token } }

// WithTLS dials over TLS, trusting the CA in caFile (the system's roots when empty).
// With certFile and keyFile the client also presents its certificate (mTLS).
func WithTLS(caFile, certFile, keyFile string) Option {
	return func(s *settings) {
		config := &tls.Config{MinVersion: tls.VersionTLS12}
		if caFile != "" {
			pem, err := ioutil.ReadFile(caFile)
			if err != nil {
				s.err = err
				return
			}
			config.RootCAs = x509.NewCertPool()
			if !config.RootCAs.AppendCertsFromPEM(pem) {
				s.err = errors.New("chatdb: no certificate in " + caFile)
				return
			}
		}
		if certFile != "" || keyFile != "" {
			pair, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				s.err = err
				return
			}
			config.Certificates = []tls.Certificate{pair}
		}
		s.dial = append(s.dial, grpc.WithTransportCredentials(credentials.NewTLS(config)))
		s.secure = true
	}
}

// WithTimeout sets the deadline the helpers give calls whose context has none (30 s otherwise).
func WithTimeout(timeout time.Duration) Option { return func(s *settings) { s.timeout = timeout } }

// WithDialOptions adds gRPC dial options. Pass grpc.WithTransportCredentials(...)
// here for TLS; without it the connection is plaintext.
func WithDialOptions(options ...grpc.DialOption) Option {
	return func(s *settings) { s.dial = append(s.dial, options...) }
}

// WithTransportSecurity marks that WithDialOptions supplies transport credentials,
// so Dial does not add grpc.WithInsecure.
func WithTransportSecurity() Option { return func(s *settings) { s.secure = true } }

// Dial connects to target: "host:port", or "dns:///name:port" (a name without a scheme is
// resolved through DNS too). The client keeps a connection to every address the name resolves
// to — one per pod behind a headless Kubernetes Service — and sends calls to them in turn; when a
// server closes an aged connection, the name is resolved again and new pods get calls. The
// connection is lazy: errors surface on the first call.
func Dial(target string, options ...Option) (*Client, error) {
	s := settings{timeout: 30 * time.Second}
	for _, option := range options {
		option(&s)
	}
	if s.err != nil {
		return nil, s.err
	}
	dial := []grpc.DialOption{
		grpc.WithDefaultServiceConfig(ServiceConfig),
		grpc.WithKeepaliveParams(Keepalive),
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply interface{},
			cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return invoker(withCallMetadata(ctx, s.tenant, s.credential), method, req, reply, cc, opts...)
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn,
			method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			return streamer(withCallMetadata(ctx, s.tenant, s.credential), desc, cc, method, opts...)
		}),
	}
	if !s.secure {
		dial = append(dial, grpc.WithInsecure())
	}
	conn, err := grpc.Dial(DNSTarget(target), append(dial, s.dial...)...)
	if err != nil {
		return nil, err
	}
	return &Client{
		conn:       conn,
		tenant:     s.tenant,
		timeout:    s.timeout,
		Schema:     schemav1.NewSchemaServiceClient(conn),
		Training:   trainingv1.NewTrainingServiceClient(conn),
		Query:      queryv1.NewQueryServiceClient(conn),
		Prediction: predictionv1.NewPredictionServiceClient(conn),
	}, nil
}

// DNSTarget is target with the dns scheme when it names none. grpc.Dial hands a target
// without a scheme to the dialer as it is (scheme "passthrough"), which connects to one
// address of the name only, so round_robin would have nothing to balance.
func DNSTarget(target string) string {
	if strings.Contains(target, "://") || strings.HasPrefix(target, "unix:") {
		return target
	}
	return "dns:///" + target
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Tenant is the tenant this client calls as.
func (c *Client) Tenant() string { return c.tenant }

// withDeadline gives ctx the client's timeout unless it has a deadline already.
func (c *Client) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// withCallMetadata adds the credential, the tenant when one is named, and a fresh
// request id unless the caller set one.
func withCallMetadata(ctx context.Context, tenant, credential string) context.Context {
	md, _ := metadata.FromOutgoingContext(ctx)
	if tenant != "" && len(md.Get(TenantHeader)) == 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, TenantHeader, tenant)
	}
	if credential != "" && len(md.Get(AuthorizationHeader)) == 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, AuthorizationHeader, "Bearer "+credential)
	}
	if len(md.Get(RequestIDHeader)) == 0 {
		ctx = metadata.AppendToOutgoingContext(ctx, RequestIDHeader, NewRequestID())
	}
	return ctx
}

// WithRequestID makes calls made with ctx carry this request id, e.g. to
// correlate them with the caller's own logs.
func WithRequestID(ctx context.Context, requestID string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, RequestIDHeader, requestID)
}

// NewRequestID is a random 128-bit id in hex.
func NewRequestID() string {
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		panic(err) // the system's random source failing is not recoverable
	}
	return hex.EncodeToString(id[:])
}

// SourceName is "dataSources/{id}" for an id, or the name unchanged.
func SourceName(source string) string {
	const prefix = "dataSources/"
	if len(source) >= len(prefix) && source[:len(prefix)] == prefix {
		return source
	}
	return prefix + source
}
