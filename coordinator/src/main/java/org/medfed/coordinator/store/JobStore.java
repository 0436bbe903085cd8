package org.medfed.coordinator.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.medfed.coordinator.job.JobEvent;
import org.medfed.coordinator.job.JobJournal;
import org.medfed.coordinator.job.JobStatus;
import org.medfed.coordinator.job.RoundRecord;

/**
 * Jobs, their progress and their completed rounds in the coordinator's {@link Database}. Each write
 * is one transaction that has committed before the caller goes on, so the stage a round was in and
 * every completed round survive a SIGKILL. Holds no model parameters: those are checkpoint files
 * whose digests are stored here.
 */
public final class JobStore implements JobJournal {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** A job as stored: what a restarted coordinator needs to show it and, if it was running, resume it. */
  public record StoredJob(String id, String specJson, String digest, String submittedBy, JobStatus status,
      String message, int currentRound, String currentStage, List<RoundRecord> rounds, List<JobEvent> events) {}

  private final Database database;

  public JobStore(Database database) {
    this.database = database;
  }

  public void insert(String id, String name, String specJson, String digest, String submittedBy, Instant at) {
    database.write("record job " + id, c -> {
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO jobs (id, name, spec_json, digest, submitted_by,"
          + " submitted_at, status, message, current_round, current_stage, updated_at)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 'SUBMITTED', ?)")) {
        insert.setString(1, id);
        insert.setString(2, name);
        insert.setString(3, specJson);
        insert.setString(4, digest);
        insert.setString(5, submittedBy);
        insert.setLong(6, at.toEpochMilli());
        insert.setString(7, JobStatus.PENDING.name());
        insert.setString(8, "waiting to start");
        insert.setLong(9, at.toEpochMilli());
        insert.executeUpdate();
      }
    });
  }

  @Override
  public void recorded(JobEvent event) {
    database.write("record the " + event.phase() + " step of job " + event.jobId(), c -> append(c, event));
  }

  @Override
  public void roundCompleted(RoundRecord record, JobEvent event) {
    database.write("record round " + record.round() + " of job " + event.jobId(), c -> {
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO rounds (job_id, round, participants_json,"
          + " dropped_json, metrics_json, millis, checkpoint_sha256, completed_at, evaluations_json)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        insert.setString(1, event.jobId());
        insert.setInt(2, record.round());
        insert.setString(3, json(record.participants()));
        insert.setString(4, json(record.dropped()));
        insert.setString(5, json(record.metrics()));
        insert.setLong(6, record.took().toMillis());
        insert.setString(7, record.checkpointSha256());
        insert.setLong(8, event.at().toEpochMilli());
        insert.setString(9, json(record.evaluations()));
        insert.executeUpdate();
      }
      append(c, event);
    });
  }

  /** Every job, oldest first, with its rounds and events. */
  public List<StoredJob> loadAll() {
    try {
      return database.inTransaction(c -> {
        List<StoredJob> jobs = new ArrayList<>();
        try (PreparedStatement query = c.prepareStatement("SELECT id, spec_json, digest, submitted_by, status, message,"
            + " current_round, current_stage FROM jobs ORDER BY submitted_at, id");
            ResultSet rows = query.executeQuery()) {
          while (rows.next()) {
            String id = rows.getString(1);
            jobs.add(new StoredJob(id, rows.getString(2), rows.getString(3), rows.getString(4),
                JobStatus.valueOf(rows.getString(5)), rows.getString(6), rows.getInt(7), rows.getString(8),
                rounds(c, id), events(c, id)));
          }
        }
        return jobs;
      });
    } catch (SQLException e) {
      throw new StoreException("cannot read the jobs from " + database.settings().describe() + ": " + e.getMessage(),
          e);
    }
  }

  private static List<RoundRecord> rounds(Connection c, String jobId) throws SQLException {
    List<RoundRecord> rounds = new ArrayList<>();
    try (PreparedStatement query = c.prepareStatement("SELECT round, participants_json, dropped_json, metrics_json,"
        + " millis, checkpoint_sha256, evaluations_json FROM rounds WHERE job_id = ? ORDER BY round")) {
      query.setString(1, jobId);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          rounds.add(new RoundRecord(rows.getInt(1), parse(rows.getString(2), new TypeReference<List<String>>() {}),
              parse(rows.getString(3), new TypeReference<Map<String, String>>() {}),
              parse(rows.getString(4), new TypeReference<LinkedHashMap<String, Double>>() {}),
              Duration.ofMillis(rows.getLong(5)), rows.getString(6),
              parse(rows.getString(7), new TypeReference<Map<String, Map<String, Double>>>() {})));
        }
      }
    }
    return rounds;
  }

  private static List<JobEvent> events(Connection c, String jobId) throws SQLException {
    List<JobEvent> events = new ArrayList<>();
    try (PreparedStatement query = c.prepareStatement("SELECT at_millis, round, phase, message, metrics_json, status"
        + " FROM job_events WHERE job_id = ? ORDER BY seq")) {
      query.setString(1, jobId);
      try (ResultSet rows = query.executeQuery()) {
        while (rows.next()) {
          events.add(new JobEvent(jobId, Instant.ofEpochMilli(rows.getLong(1)), rows.getInt(2), rows.getString(3),
              rows.getString(4), parse(rows.getString(5), new TypeReference<LinkedHashMap<String, Double>>() {}),
              JobStatus.valueOf(rows.getString(6))));
        }
      }
    }
    return events;
  }

  private static void append(Connection c, JobEvent event) throws SQLException {
    try (PreparedStatement insert = c.prepareStatement("INSERT INTO job_events (job_id, seq, at_millis, round, phase,"
        + " message, metrics_json, status)"
        + " VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = ?), ?, ?, ?, ?, ?, ?)")) {
      insert.setString(1, event.jobId());
      insert.setString(2, event.jobId());
      insert.setLong(3, event.at().toEpochMilli());
      insert.setInt(4, event.round());
      insert.setString(5, event.phase());
      insert.setString(6, event.message());
      insert.setString(7, json(event.metrics()));
      insert.setString(8, event.status().name());
      insert.executeUpdate();
    }
    try (PreparedStatement update = c.prepareStatement("UPDATE jobs SET status = ?, message = ?, current_round = ?,"
        + " current_stage = ?, updated_at = ? WHERE id = ?")) {
      update.setString(1, event.status().name());
      update.setString(2, event.message());
      update.setInt(3, event.round());
      update.setString(4, event.phase());
      update.setLong(5, event.at().toEpochMilli());
      update.setString(6, event.jobId());
      if (update.executeUpdate() != 1) {
        throw new SQLException("job " + event.jobId() + " is not in the database");
      }
    }
  }



  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode " + value, e);
    }
  }

  private static <T> T parse(String text, TypeReference<T> type) throws SQLException {
    try {
      return JSON.readValue(text, type);
    } catch (JsonProcessingException e) {
      throw new SQLException("a stored value is not the JSON this coordinator wrote: " + e.getOriginalMessage(), e);
    }
  }
}
