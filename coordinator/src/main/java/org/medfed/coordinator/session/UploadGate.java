package org.medfed.coordinator.session;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * How many masked uploads the coordinator assembles at once. Each holds a model-sized buffer until
 * its vector joins the secure sum, so with a fixed few the coordinator's memory stays O(model)
 * whatever the number of hospitals (issue 16 item 2). The other uploads are not refused: they wait,
 * paused by gRPC flow control, and start in arrival order as assemblies finish. A task keeps its
 * place from its first chunk until its result is in (a resumed upload needs no second place).
 */
final class UploadGate {
  /**
   * One: with the global model and the running sum, the coordinator then holds at most three
   * model-sized arrays while masked vectors arrive (issue 16 item 2's "3x the model"). A vector is
   * added to the sum on the thread that completed its upload, before its place is given up (the
   * round's consumer of the result runs before the place is given up, see TaskBoard#acceptMasked), so
   * the next upload's buffer is never allocated beside it. The cost: uploads are assembled one after
   * another, so one hospital's slow link delays the others' (docs/secure-aggregation.md, "Memory").
   */
  static final int MASKED_ASSEMBLIES = 1;

  private record Waiting(TaskBoard.Issued task, Runnable start) {}

  private final int capacity;
  private final Deque<Waiting> waiting = new ArrayDeque<>();
  private final List<TaskBoard.Issued> holders = new ArrayList<>();

  UploadGate(int capacity) {
    this.capacity = capacity;
  }

  /** Runs {@code start} once {@code task} holds a place: at once if it holds one or one is free. */
  void enter(TaskBoard.Issued task, Runnable start) {
    synchronized (this) {
      if (!holders.contains(task)) {
        if (holders.size() >= capacity) {
          waiting.add(new Waiting(task, start));
          return;
        }
        holders.add(task);
      }
    }
    start.run();
  }

  /** Gives up {@code task}'s place, if it holds one, and starts the uploads it lets through. */
  void leave(TaskBoard.Issued task) {
    List<Runnable> starts = new ArrayList<>();
    synchronized (this) {
      if (!holders.remove(task)) {
        return;
      }
      while (holders.size() < capacity && !waiting.isEmpty()) {
        Waiting next = waiting.poll();
        // A task whose result is already in needs no place: its upload will be refused as not open.
        if (!next.task().result().isDone() && !holders.contains(next.task())) {
          holders.add(next.task());
        }
        starts.add(next.start());
      }
    }
    starts.forEach(Runnable::run);
  }

  synchronized int waitingCount() {
    return waiting.size();
  }
}
