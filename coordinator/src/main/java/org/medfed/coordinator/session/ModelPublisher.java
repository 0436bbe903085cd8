package org.medfed.coordinator.session;

import java.nio.FloatBuffer;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.medfed.wire.ChunkedPayload;
import org.medfed.wire.Digests;

/**
 * Models that nodes may download right now, by id. A round publishes the model it sends and
 * withdraws it when the round ends, so memory holds at most a few models per running job.
 */
public final class ModelPublisher {
  private final Map<String, ChunkedPayload> models = new ConcurrentHashMap<>();
  private final int chunkSize;

  public ModelPublisher(int chunkSize) {
    this.chunkSize = chunkSize;
  }

  public int chunkSize() {
    return chunkSize;
  }

  /**
   * @param parameters a view that stays unchanged while published (a {@link
   *     org.medfed.coordinator.model.GlobalModel#parameterView}); it is encoded chunk by chunk as sent
   * @return the id under which nodes download these parameters
   */
  public String publish(String jobId, int round, String purpose, FloatBuffer parameters) {
    ChunkedPayload payload = ChunkedPayload.ofFloats(parameters, chunkSize);
    String id = jobId + "/r" + round + "/" + purpose + "/" + Digests.shortHex(payload.digest());
    models.put(id, payload);
    return id;
  }

  public void withdraw(String id) {
    models.remove(id);
  }

  Optional<ChunkedPayload> find(String id) {
    return Optional.ofNullable(models.get(id));
  }
}
