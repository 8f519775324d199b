package chatdb

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"
)

// ListOptions tune the list helpers, which follow every page and return all items.
type ListOptions struct {
	// PageSize is how many items each call asks for; 0 takes the server's default.
	PageSize int32
}

// call makes one unary call with the client's deadline (unless ctx has one) and
// returns its error as an *Error where it carries a gRPC status.
func call[Request, Reply any](ctx context.Context, c *Client,
	method func(context.Context, Request, ...grpc.CallOption) (Reply, error), request Request) (Reply, error) {
	ctx, cancel := c.withDeadline(ctx)
	defer cancel()
	reply, err := method(ctx, request)
	if err != nil {
		var none Reply
		return none, wrap(err)
	}
	return reply, nil
}

// allPages calls page with the token of each next page, from the first page until
// one returns no token, and gathers the items in order.
func allPages[Item any](ctx context.Context, page func(ctx context.Context, token string) ([]Item, string, error)) (
	[]Item, error) {
	var items []Item
	token := ""
	for {
		got, next, err := page(ctx, token)
		if err != nil {
			return nil, err
		}
		items = append(items, got...)
		if next == "" {
			return items, nil
		}
		if next == token {
			return nil, errors.New("chatdb: the server returned the same page token twice")
		}
		token = next
	}
}

// drain reads what is left of a server stream after its last message until the server
// ends it, so that the call ends with the server's status instead of being cancelled.
func drain[Message any](recv func() (Message, error)) error {
	for {
		if _, err := recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return wrap(err)
		}
	}
}
