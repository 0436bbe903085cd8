package org.medfed.coordinator.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.medfed.proto.v1.UploadHeader;
import org.medfed.wire.ChunkedPayload;

class UploadGateTest {
  private final TaskBoard board = new TaskBoard(1 << 20, () -> { });
  private final List<String> started = new ArrayList<>();

  private TaskBoard.Issued task() {
    return board.issueSecure("hospital", 4);
  }

  @Test
  void atMostCapacityAssembleAtOnce_theRestStartInArrivalOrderAsPlacesFree() {
    UploadGate gate = new UploadGate(2);
    TaskBoard.Issued a = task();
    TaskBoard.Issued b = task();
    TaskBoard.Issued c = task();
    TaskBoard.Issued d = task();
    gate.enter(a, () -> started.add("a"));
    gate.enter(b, () -> started.add("b"));
    gate.enter(c, () -> started.add("c"));
    gate.enter(d, () -> started.add("d"));
    assertEquals(List.of("a", "b"), started);
    assertEquals(2, gate.waitingCount());

    gate.leave(b);
    assertEquals(List.of("a", "b", "c"), started);
    gate.leave(b);  // a second leave gives nothing away
    assertEquals(List.of("a", "b", "c"), started);
    gate.leave(a);
    assertEquals(List.of("a", "b", "c", "d"), started);
  }

  @Test
  void aResumedUploadKeepsItsPlace_andAWaiterWhoseTaskEndedTakesNone() {
    UploadGate gate = new UploadGate(1);
    TaskBoard.Issued a = task();
    TaskBoard.Issued b = task();
    TaskBoard.Issued c = task();
    gate.enter(a, () -> started.add("a"));
    gate.enter(b, () -> started.add("b"));
    gate.enter(c, () -> started.add("c"));
    gate.enter(a, () -> started.add("a resumed"));
    assertEquals(List.of("a", "a resumed"), started);

    b.result().complete(new TaskResult.Failed("gone"));
    gate.leave(a);
    // b's upload is let through to be refused as not open, and its place passes on to c.
    assertEquals(List.of("a", "a resumed", "b", "c"), started);
  }

  @Test
  void theBoardsGate_isLeftWhenTheTaskEndsHoweverItEnds() {
    List<TaskBoard.Issued> tasks = new ArrayList<>();
    for (int i = 0; i < UploadGate.MASKED_ASSEMBLIES + 1; i++) {
      TaskBoard.Issued next = task();
      tasks.add(next);
      board.whenUploadMayStart(next.taskId(), () -> started.add(next.taskId()));
    }
    assertEquals(UploadGate.MASKED_ASSEMBLIES, started.size());

    tasks.get(0).result().complete(new TaskResult.Failed("node disconnected"));
    assertEquals(UploadGate.MASKED_ASSEMBLIES + 1, started.size());
  }

  /**
   * With one assembly, the coordinator holds at most one masked vector besides the sum: the next
   * upload may start only once the round's consumer (which adds the vector to the sum) has run.
   */
  @Test
  void aDeliveredMaskedVectorsPlace_passesOnOnlyAfterTheRoundTookIt() {
    assertEquals(1, UploadGate.MASKED_ASSEMBLIES);
    TaskBoard.Issued first = task();
    TaskBoard.Issued second = task();
    List<String> seenBySum = new ArrayList<>();
    first.result().thenAccept(result -> {
      seenBySum.add("summed while started " + started);
      ((TaskResult.Masked) result).take();
    });
    board.whenUploadMayStart(first.taskId(), () -> started.add("first"));
    board.whenUploadMayStart(second.taskId(), () -> started.add("second"));
    assertEquals(List.of("first"), started);
    ChunkedPayload masked = new ChunkedPayload(new byte[4 * Integer.BYTES], 8);
    UploadHeader header = UploadHeader.newBuilder().setTaskId(first.taskId()).build();

    assertEquals(new TaskBoard.UploadStep.NeedMore(), board.acceptChunk(header, masked.chunk(0)));
    assertEquals(List.of("first"), started);
    TaskBoard.UploadStep last = board.acceptChunk(header, masked.chunk(1));

    assertEquals(TaskBoard.UploadStep.Accepted.class, last.getClass());
    assertEquals(List.of("summed while started [first]"), seenBySum);
    assertEquals(List.of("first", "second"), started);
  }
}
