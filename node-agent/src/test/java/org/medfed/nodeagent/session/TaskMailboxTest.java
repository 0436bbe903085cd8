package org.medfed.nodeagent.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Deadline;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.medfed.nodeagent.training.CancellationToken;
import org.medfed.proto.v1.CoordinatorMessage;
import org.medfed.proto.v1.SecAggKeyDirectory;
import org.medfed.proto.v1.SecAggShareInbox;

class TaskMailboxTest {
  private final TaskMailbox mailbox = new TaskMailbox();

  private static CoordinatorMessage directory() {
    return CoordinatorMessage.newBuilder().setSecaggDirectory(SecAggKeyDirectory.newBuilder().setTaskId("t1")).build();
  }

  private static CoordinatorMessage inbox() {
    return CoordinatorMessage.newBuilder().setSecaggInbox(SecAggShareInbox.newBuilder().setTaskId("t1")).build();
  }

  @Test
  void await_returnsTheStageMessage_deliveredBeforeOrWhileWaiting() throws Exception {
    mailbox.deliver(directory());
    assertEquals(directory(), mailbox.await(CoordinatorMessage.BodyCase.SECAGG_DIRECTORY,
        Deadline.after(5, TimeUnit.SECONDS), new CancellationToken()));

    CompletableFuture.runAsync(() -> mailbox.deliver(inbox()), CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS));
    assertEquals(inbox(), mailbox.await(CoordinatorMessage.BodyCase.SECAGG_INBOX,
        Deadline.after(5, TimeUnit.SECONDS), new CancellationToken()));
  }

  @Test
  void await_aStageOutOfOrder_stopsAtOnceAndNamesBothStages() {
    mailbox.deliver(inbox());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> mailbox.await(
        CoordinatorMessage.BodyCase.SECAGG_DIRECTORY, Deadline.after(5, TimeUnit.MINUTES), new CancellationToken()));
    assertTrue(e.getMessage().contains("sent SECAGG_INBOX while this node waited for SECAGG_DIRECTORY"), e.getMessage());
  }

  @Test
  void await_withNothingDelivered_endsAtTheDeadlineOrOnCancellation() {
    IllegalStateException late = assertThrows(IllegalStateException.class, () -> mailbox.await(
        CoordinatorMessage.BodyCase.SECAGG_INBOX, Deadline.after(50, TimeUnit.MILLISECONDS), new CancellationToken()));
    assertTrue(late.getMessage().contains("no SECAGG_INBOX from the coordinator before the task deadline"), late.getMessage());

    CancellationToken token = new CancellationToken();
    token.cancel("job cancelled");
    assertThrows(CancellationToken.CancelledException.class, () -> mailbox.await(
        CoordinatorMessage.BodyCase.SECAGG_INBOX, Deadline.after(5, TimeUnit.MINUTES), token));
  }
}
