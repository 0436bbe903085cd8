package org.medfed.trust.tls;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Channels to each of a consortium's coordinators, in the configured order: the active one and its
 * standbys. Each address has its own channel, with its own server-name check, so every
 * coordinator's certificate must name the host dialled for it. Calls go to the current coordinator
 * until someone that found it gone or on standby calls {@link #moveOn()}; then they go to the next
 * address (after the last, to the first again).
 *
 * <p>Thread-safe. Shutting it down shuts down every channel.
 */
public final class CoordinatorChannels extends ManagedChannel {
  /**
   * The trailer with which a coordinator that does not drive the jobs (on standby, or still taking
   * the store's lease) refuses a call; its value is {@code standby}.
   */
  public static final Metadata.Key<String> NOT_ACTIVE = Metadata.Key.of("medfed-not-active",
      Metadata.ASCII_STRING_MARSHALLER);

  /** Opens the channel to one coordinator address. */
  @FunctionalInterface
  public interface Dialer {
    ManagedChannel dial(CoordinatorAddress address) throws IOException;
  }

  private final List<String> targets;
  private final List<ManagedChannel> channels;
  private final AtomicInteger current = new AtomicInteger();

  private CoordinatorChannels(List<String> targets, List<ManagedChannel> channels) {
    this.targets = List.copyOf(targets);
    this.channels = List.copyOf(channels);
  }

  /**
   * Dials every address with {@code dialer}; on a failure closes the channels already open.
   *
   * @throws IllegalArgumentException when {@code addresses} is empty
   */
  public static CoordinatorChannels open(List<CoordinatorAddress> addresses, Dialer dialer) throws IOException {
    if (addresses.isEmpty()) {
      throw new IllegalArgumentException("no coordinator address to dial; give at least one host:port");
    }
    List<ManagedChannel> opened = new ArrayList<>();
    try {
      for (CoordinatorAddress address : addresses) {
        opened.add(dialer.dial(address));
      }
    } catch (IOException | RuntimeException e) {
      opened.forEach(ManagedChannel::shutdownNow);
      throw e;
    }
    return new CoordinatorChannels(addresses.stream().map(CoordinatorAddress::toString).toList(), opened);
  }

  /** A single coordinator, already dialled: {@link #moveOn()} stays on it. */
  public static CoordinatorChannels of(ManagedChannel channel) {
    return new CoordinatorChannels(List.of(channel.authority()), List.of(channel));
  }

  /**
   * Whether {@code failure} says that its coordinator is not the one to talk to now: it was
   * unreachable (UNAVAILABLE: down, restarting, or a failed handshake), or it refused the call as a
   * coordinator that does not drive the jobs ({@link #NOT_ACTIVE}).
   */
  public static boolean elsewhere(Throwable failure) {
    Metadata trailers = Status.trailersFromThrowable(failure);
    return Status.fromThrowable(failure).getCode() == Status.Code.UNAVAILABLE
        || trailers != null && trailers.containsKey(NOT_ACTIVE);
  }

  /** The address calls go to now, as {@code host:port}. */
  public String current() {
    return targets.get(current.get());
  }

  /** Every address, in the configured order. */
  public List<String> targets() {
    return targets;
  }

  public int size() {
    return channels.size();
  }

  /**
   * Sends the next calls to the next address. Its channel dials at once rather than after the
   * backoff that gRPC keeps for a channel whose coordinator was down.
   *
   * @return the address calls go to now
   */
  public String moveOn() {
    int next = current.updateAndGet(i -> (i + 1) % channels.size());
    channels.get(next).resetConnectBackoff();
    return targets.get(next);
  }

  /**
   * Runs {@code call} on this channel and, while it fails because its coordinator is not the active
   * one ({@link #elsewhere}), again after {@link #moveOn()}, trying each address once. With a
   * single address the failure is thrown as it is.
   *
   * @throws StatusRuntimeException UNAVAILABLE naming every address and what each answered, when
   *     none was the active coordinator; or the first failure that another address cannot cure
   */
  public <T> T onActive(Function<? super Channel, T> call) {
    List<String> answers = new ArrayList<>();
    StatusRuntimeException first = null;
    for (int tried = 0; tried < channels.size(); tried++) {
      String target = current();
      try {
        return call.apply(this);
      } catch (StatusRuntimeException e) {
        if (!elsewhere(e) || channels.size() == 1) {
          throw e;
        }
        first = first == null ? e : first;
        answers.add(target + ": " + e.getStatus().getCode() + " (" + e.getStatus().getDescription() + ")");
        moveOn();
      }
    }
    throw Status.UNAVAILABLE.withDescription("none of the coordinators " + targets + " drives the jobs now: "
        + String.join("; ", answers)).withCause(first.getStatus().getCause()).asRuntimeException();
  }

  @Override
  public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
    return channels.get(current.get()).newCall(method, options);
  }

  @Override
  public String authority() {
    return channels.get(current.get()).authority();
  }

  @Override
  public void resetConnectBackoff() {
    channels.forEach(ManagedChannel::resetConnectBackoff);
  }

  @Override
  public CoordinatorChannels shutdown() {
    channels.forEach(ManagedChannel::shutdown);
    return this;
  }

  @Override
  public CoordinatorChannels shutdownNow() {
    channels.forEach(ManagedChannel::shutdownNow);
    return this;
  }

  @Override
  public boolean isShutdown() {
    return channels.stream().allMatch(ManagedChannel::isShutdown);
  }

  @Override
  public boolean isTerminated() {
    return channels.stream().allMatch(ManagedChannel::isTerminated);
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    for (ManagedChannel channel : channels) {
      if (!channel.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return "coordinators " + targets + ", now " + current();
  }
}
