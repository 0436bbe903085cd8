package org.medfed.coordinator.cli;

import java.util.Locale;
import java.util.concurrent.Callable;
import org.medfed.privacy.NoiseCalibration;
import org.medfed.privacy.PrivacySpent;
import org.medfed.privacy.RdpCurve;
import org.medfed.privacy.SampledGaussian;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code medfed privacy}: what DP-SGD settings spend, by the RDP accountant hospitals use. */
@Command(name = "privacy", mixinStandardHelpOptions = true,
    description = "Differential-privacy arithmetic: the epsilon DP-SGD settings spend, or the noise a target needs.",
    subcommands = {PrivacyCommands.Epsilon.class, PrivacyCommands.Noise.class})
final class PrivacyCommands {

  /** The sampled Gaussian mechanism's settings, shared by both questions. */
  static final class Run {
    @Option(names = "--sample-rate", required = true, description = "q: the chance a record is in a step's batch"
        + " (batch size / records).")
    double sampleRate;

    @Option(names = "--steps", required = true, description = "Optimiser steps, over all rounds.")
    long steps;

    @Option(names = "--delta", defaultValue = "1e-5", description = "delta (default: ${DEFAULT-VALUE}).")
    double delta;
  }

  @Command(name = "epsilon", mixinStandardHelpOptions = true,
      description = "Prints `epsilon E` (the improved conversion of Balle et al. 2020, as Opacus reports it) and"
          + " `epsilon_basic E` (Mironov 2017) for DP-SGD with these settings.")
  static final class Epsilon implements Callable<Integer> {
    @Mixin Run run;

    @Option(names = "--noise-multiplier", required = true, description = "sigma: noise std over the clip norm.")
    double noiseMultiplier;

    @Override
    public Integer call() {
      PrivacySpent spent = SampledGaussian.steps(run.sampleRate, noiseMultiplier, run.steps, RdpCurve.DEFAULT_ORDERS)
          .epsilon(run.delta);
      System.out.printf(Locale.ROOT, "epsilon %.4f%nepsilon_basic %.4f%n", spent.epsilon(), spent.epsilonBasic());
      return MedfedCli.OK;
    }
  }

  @Command(name = "noise", mixinStandardHelpOptions = true,
      description = "Prints `noise_multiplier S`: the least noise that keeps these settings within --epsilon.")
  static final class Noise implements Callable<Integer> {
    @Mixin Run run;

    @Option(names = "--epsilon", required = true, description = "The target epsilon (improved conversion).")
    double epsilon;

    @Override
    public Integer call() {
      System.out.printf(Locale.ROOT, "noise_multiplier %.4f%n", NoiseCalibration.noiseMultiplier(epsilon, run.delta,
          run.sampleRate, run.steps, RdpCurve.DEFAULT_ORDERS));
      return MedfedCli.OK;
    }
  }
}
