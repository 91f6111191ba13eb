package dsr

// Group is where a request sits in the workspace's lists: waiting for the requester, open
// for the controller, or closed. The values are stored (the workspace index's partitions):
// never rename one.
type Group string

// The groups, in the order the workspace offers them.
const (
	GroupWaiting Group = "waiting"
	GroupOpen    Group = "open"
	GroupClosed  Group = "closed"
)

// Groups lists every group.
var Groups = []Group{GroupOpen, GroupWaiting, GroupClosed}

// Group is the list r is on.
func (r *Request) Group() Group {
	switch {
	case r.Status.Active(), r.Status == Quarantined:
		// A quarantined mail waits on the DPO's decision.
		return GroupOpen
	case r.Status.Closed():
		return GroupClosed
	}
	return GroupWaiting
}

// Party names who a request waits on.
type Party string

// Who a request can be waiting on.
const (
	// WaitsOnController: the controller owes an answer by the deadline in force.
	WaitsOnController Party = "controller"
	// WaitsOnRequester: nothing happens until the requester acts (confirms their address).
	WaitsOnRequester Party = "requester"
	// WaitsOnNobody: the request is closed.
	WaitsOnNobody Party = "nobody"
)

// WaitsOn says who must act next on r.
func (r *Request) WaitsOn() Party {
	switch r.Group() {
	case GroupOpen:
		return WaitsOnController
	case GroupWaiting:
		return WaitsOnRequester
	}
	return WaitsOnNobody
}
