/**
 * An optional local trainer for hospitals whose data outgrows one machine: each round's DL4J
 * training runs on an Apache Spark 3.5 cluster (or {@code local[N]}), partition by partition, and
 * the partitions' weights are averaged before the agent sends its one update. The node agent finds
 * it with {@link java.util.ServiceLoader} when agent.yaml says {@code trainer: {kind: spark}}.
 *
 * <p>Null policy: parameters and return values are never null; optional values are
 * {@link java.util.Optional}.
 */
package org.medfed.sparktrainer;
