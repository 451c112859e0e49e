// Monitoring's inbox events of the predictions the log writer inserts itself, buffered per
// subtransaction and written in bulk at the end of each statement (issue 12 item 7).
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_learn::pg {

// Queues the inbox event (1 a prediction, 2 its label, 3 both) of log row prediction_id, written
// by the current subtransaction, for ml_monitor_inbox of schema nsp. The events are written, with
// one heap_multi_insert, when a statement's executor finishes in that subtransaction (an INSERT
// after its AFTER triggers, or any statement run inside them), and at the latest before the
// transaction commits; a subtransaction that rolls back takes its events with it, as it takes the
// log rows. So an event still becomes visible exactly when its log row does. Plain PostgreSQL code.
void inbox_add(Oid nsp, int64 prediction_id, int16 events);

}  // namespace pg_learn::pg
