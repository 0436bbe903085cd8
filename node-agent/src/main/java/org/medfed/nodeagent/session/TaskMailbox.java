package org.medfed.nodeagent.session;

import io.grpc.Deadline;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.proto.v1.CoordinatorMessage;

/**
 * Messages the coordinator sends for one running task (the secure-aggregation stages), handed from
 * the gRPC thread to the worker running the task. Thread-safe.
 */
final class TaskMailbox {
  private final BlockingQueue<CoordinatorMessage> queue = new LinkedBlockingQueue<>();

  void deliver(CoordinatorMessage message) {
    queue.add(message);
  }

  /**
   * Waits for the next message of {@code kind}, until the task's deadline or its cancellation. The
   * stages come in a fixed order, so a message of another kind is a coordinator that broke the
   * protocol: the task stops at once rather than wait for its deadline.
   *
   * @throws IllegalStateException if the deadline passes first or a message of another kind arrives
   */
  CoordinatorMessage await(CoordinatorMessage.BodyCase kind, Deadline deadline, CancellationToken cancel)
      throws InterruptedException {
    while (true) {
      cancel.throwIfCancelled();
      long left = deadline.timeRemaining(TimeUnit.MILLISECONDS);
      if (left <= 0) {
        throw new IllegalStateException("no " + kind + " from the coordinator before the task deadline");
      }
      // Bounded waits so that a cancellation is noticed within half a second.
      CoordinatorMessage message = queue.poll(Math.min(left, 500), TimeUnit.MILLISECONDS);
      if (message != null) {
        if (message.getBodyCase() != kind) {
          throw new IllegalStateException("the coordinator sent " + message.getBodyCase() + " while this node waited for "
              + kind + "; secure-aggregation stages must arrive in order, so this task stops");
        }
        return message;
      }
    }
  }
}
