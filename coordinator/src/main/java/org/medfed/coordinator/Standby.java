package org.medfed.coordinator;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.util.function.Supplier;
import org.medfed.trust.tls.CoordinatorChannels;

/**
 * A service as a coordinator that does not drive the jobs answers it: every method of it refuses
 * each call with the status of the moment, which says why and where to go instead, and with the
 * {@link CoordinatorChannels#NOT_ACTIVE} trailer, by which agents and admin commands that know
 * several coordinators try the next one. Replaced by the real service once the coordinator holds
 * the store's lease.
 */
final class Standby {
  private Standby() {}

  static ServerServiceDefinition refusing(ServiceDescriptor service, Supplier<Status> status) {
    ServerServiceDefinition.Builder definition = ServerServiceDefinition.builder(service);
    for (MethodDescriptor<?, ?> method : service.getMethods()) {
      add(definition, method, status);
    }
    return definition.build();
  }

  private static <Q, R> void add(ServerServiceDefinition.Builder definition, MethodDescriptor<Q, R> method,
      Supplier<Status> status) {
    definition.addMethod(method, (ServerCall<Q, R> call, Metadata headers) -> {
      call.close(status.get(), notActive());
      return new ServerCall.Listener<>() {};
    });
  }

  private static Metadata notActive() {
    Metadata trailers = new Metadata();
    trailers.put(CoordinatorChannels.NOT_ACTIVE, "standby");
    return trailers;
  }
}
