package org.medfed.coordinator.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.medfed.coordinator.session.NodeDirectory;
import org.medfed.coordinator.session.NodeView;

/**
 * The hospitals the coordinator has seen, with their datasets (descriptors only) and when they were
 * last connected. Written when a node arrives and when it leaves, not on every heartbeat.
 */
public final class NodeStore implements NodeDirectory.History {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Database database;

  public NodeStore(Database database) {
    this.database = database;
  }

  /** At start-up: whatever was connected to the previous process is not connected to this one. */
  public void markAllDisconnected() {
    database.write("mark nodes disconnected", c -> {
      try (PreparedStatement update = c.prepareStatement("UPDATE nodes SET connected = ? WHERE connected = ?")) {
        update.setBoolean(1, false);
        update.setBoolean(2, true);
        update.executeUpdate();
      }
    });
  }

  @Override
  public void record(NodeView node) {
    database.write("record node " + node.nodeId(), c -> {
      String datasets;
      try {
        datasets = JSON.writeValueAsString(node.datasets());
      } catch (JsonProcessingException e) {
        throw new SQLException("cannot encode the datasets of " + node.nodeId(), e);
      }
      try (PreparedStatement update = c.prepareStatement("UPDATE nodes SET software_version = ?, datasets_json = ?,"
          + " last_seen = ?, connected = ? WHERE node_id = ?")) {
        update.setString(1, node.softwareVersion());
        update.setString(2, datasets);
        update.setLong(3, node.lastSeen().toEpochMilli());
        update.setBoolean(4, node.connected());
        update.setString(5, node.nodeId());
        if (update.executeUpdate() == 1) {
          return;
        }
      }
      try (PreparedStatement insert = c.prepareStatement("INSERT INTO nodes (node_id, software_version, datasets_json,"
          + " first_seen, last_seen, connected) VALUES (?, ?, ?, ?, ?, ?)")) {
        insert.setString(1, node.nodeId());
        insert.setString(2, node.softwareVersion());
        insert.setString(3, datasets);
        insert.setLong(4, node.lastSeen().toEpochMilli());
        insert.setLong(5, node.lastSeen().toEpochMilli());
        insert.setBoolean(6, node.connected());
        insert.executeUpdate();
      }
    });
  }

  /** Every node seen, as stored (connected ones as of their arrival). */
  @Override
  public List<NodeView> all() {
    try {
      return database.inTransaction(c -> {
        List<NodeView> nodes = new ArrayList<>();
        try (PreparedStatement query = c.prepareStatement("SELECT node_id, software_version, datasets_json, last_seen,"
            + " connected FROM nodes ORDER BY node_id");
            ResultSet rows = query.executeQuery()) {
          while (rows.next()) {
            List<String> datasets;
            try {
              datasets = JSON.readValue(rows.getString(3), new TypeReference<List<String>>() {});
            } catch (JsonProcessingException e) {
              throw new SQLException("node " + rows.getString(1) + " has unreadable datasets", e);
            }
            nodes.add(new NodeView(rows.getString(1), rows.getString(2), Optional.empty(),
                Instant.ofEpochMilli(rows.getLong(4)), datasets, rows.getBoolean(5)));
          }
        }
        return nodes;
      });
    } catch (SQLException e) {
      throw new StoreException("cannot read the nodes from " + database.settings().describe() + ": "
          + e.getMessage(), e);
    }
  }


}
