package org.medfed.coordinator.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

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
}
