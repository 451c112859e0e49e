// Monitoring's inbox events of the predictions the log writer inserts itself, buffered per
// subtransaction and written in bulk at the end of each statement (issue 12 item 7).
#pragma once

extern "C" {
#include "postgres.h"
}

namespace pg_learn::pg {

// Queues the inbox event (1 a prediction, 2 its label, 3 both) of log row prediction_id, written
// by the current subtransaction, for ml_monitor_inbox of schema nsp. The events are written, with
// one heap_multi_insert (or one INSERT, below), when a statement's executor finishes in that subtransaction (an INSERT
// after its AFTER triggers, or any statement run inside them), and at the latest before the
// transaction commits; a subtransaction that rolls back takes its events with it, as it takes the
// log rows. So an event still becomes visible exactly when its log row does. Plain PostgreSQL code.
void inbox_add(Oid nsp, int64 prediction_id, int16 events);

// Writes every event this backend holds, for the functions that read the inbox or delete log rows
// (monitoring's entry points): run inside the statement that logged the rows (a trigger, a
// function), or after a COPY, they see this transaction's events as they see its log rows. The
// events of an outer subtransaction are written in the current one and recorded: if it rolls back
// (its rows with it) while their log rows stay, they are queued again, to be written once more
// with the outer subtransaction's other events; when it commits into the outer one, the event and
// its log row share one fate again and the record goes. Plain PostgreSQL code.
void inbox_write_pending();

// Writes the event of log row prediction_id into the inbox inbox_oid now (the log's trigger).
// Plain PostgreSQL code.
void inbox_write_one(Oid inbox_oid, int64 prediction_id, int16 events);

// The events are written with heap inserts while the inbox is exactly as the extension creates it
// (a plain heap table of its two columns, no index, trigger, rule or constraint of a user's; a
// check cached until a relcache invalidation of the inbox), and otherwise with an INSERT run as
// the inbox's owner, so that a user's index gets its entries, triggers fire and constraints are
// checked, and an added or dropped column is handled as an INSERT handles it.

}  // namespace pg_learn::pg
