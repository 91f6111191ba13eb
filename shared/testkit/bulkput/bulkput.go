// Package bulkput stores many items at once for the scale tests and benchmarks: batches of 25
// (BatchWriteItem's most) written by parallel workers, whatever DynamoDB leaves unprocessed
// sent again. dynalite takes a hundred thousand requests in a minute or two this way.
package bulkput

import (
	"context"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Writer is the call bulkput makes.
type Writer interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// workers write at once: more gains nothing against an emulator on two cores.
const workers = 8

// Put stores the items items(0) … items(n-1) return in table, and fails t on an error.
func Put(t testing.TB, db Writer, table string, n int, items func(i int) []map[string]ddbtypes.AttributeValue) {
	t.Helper()
	ctx := context.Background()
	batches := make(chan []ddbtypes.WriteRequest)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for reqs := range batches {
				for len(reqs) > 0 {
					out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
						RequestItems: map[string][]ddbtypes.WriteRequest{table: reqs},
					})
					if err != nil {
						errs <- err
						for range batches { // let the producer finish
						}
						return
					}
					reqs = out.UnprocessedItems[table]
				}
			}
		})
	}
	var batch []ddbtypes.WriteRequest
	for i := range n {
		for _, it := range items(i) {
			batch = append(batch, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: it}})
			if len(batch) == 25 {
				batches <- batch
				batch = nil
			}
		}
	}
	if len(batch) > 0 {
		batches <- batch
	}
	close(batches)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatalf("bulkput: %v", err)
	default:
	}
}
