"""One harness per service, for the labs' stage checks (and the bench's in-process floor).

A lab's checks say what they assert; how to get an execution of the lab's
handler to assert on is the same for every lab built on one service, so it is
written here once instead of in each lab's checks/:

- `in_process`: what every in-process run shares (the AWS fakes behind the
  services' clients, the function's environment, DurableFunctionTestRunner,
  each invocation's log lines);
- `saga`: the order saga, with its payment and warehouse functions (labs 1-3);
- `ingest`: SQS batches to the ingest function, the tables read back (labs 4, 5);
- `approval`: the approval wait, with its callback answered (lab 6);
- `live`: one real execution on the local stack, or make lab-N's own read back.
"""
