package bot

import "context"

// deliveryKey is the context key of the sender's delivery address.
type deliveryKey struct{}

// DeliveryAddress is where a channel can reach the sender of the message
// being handled: Channel is the channel name and Address what the channel's
// Sender accepts (a Telegram chat id, a Zalo user id). Group is set when
// the address is a group chat rather than the user.
type DeliveryAddress struct {
	Channel string
	Address string
	Group   bool
}

// WithDeliveryAddress returns ctx carrying the sender's delivery address.
// Channels call it before eng.Handle so that features which must write
// first later (reminders for team members) can store the address with
// storage.DB.SetAddress — only when they need it. The engine itself never
// stores it.
func WithDeliveryAddress(ctx context.Context, a DeliveryAddress) context.Context {
	return context.WithValue(ctx, deliveryKey{}, a)
}

// DeliveryAddressFrom returns the delivery address a channel put in ctx.
func DeliveryAddressFrom(ctx context.Context) (DeliveryAddress, bool) {
	a, ok := ctx.Value(deliveryKey{}).(DeliveryAddress)
	return a, ok && a.Address != ""
}
