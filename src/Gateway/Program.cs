using Gateway.Configuration;
using Gateway.Hosting;
using Gateway.Logging;
using Gateway.Proxy.Metrics;
using Gateway.Proxy.Server;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

// gateway [--config PATH] | --check-config PATH | --version   (README, 'Command line')
return await Gateway.GatewayCommand.RunAsync(args);

namespace Gateway
{
    internal static class GatewayCommand
    {
        public static async Task<int> RunAsync(string[] args)
        {
            string? configPath = null;
            for (int i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--version":
                        Console.WriteLine($"gateway {typeof(GatewayCommand).Assembly.GetName().Version?.ToString(3)}");
                        return 0;
                    case "--check-config" when i + 1 < args.Length:
                        return await CheckConfigAsync(args[i + 1]);
                    case "--config" when i + 1 < args.Length:
                        configPath = args[++i];
                        break;
                    default:
                        Console.Error.WriteLine($"unknown argument '{args[i]}'\nusage: gateway [--config PATH] | --check-config PATH | --version");
                        return 2;
                }
            }
            configPath ??= Environment.GetEnvironmentVariable("GATEWAY_CONFIG") ?? "gateway.json";
            return await ServeAsync(Path.GetFullPath(configPath));
        }

        /// <summary>Validates a config file, including compiling and configuring every plugin; lists every problem.</summary>
        private static async Task<int> CheckConfigAsync(string path)
        {
            using var loggers = LoggerFactory.Create(b =>
            {
                b.AddConsole(ConfigureConsole).SetMinimumLevel(LogLevel.Warning);
                b.Services.AddSingleton<ConsoleFormatter, GatewayJsonFormatter>();
            });
            ConfigLoadResult loaded = ConfigLoader.Load(Path.GetFullPath(path), EnvironmentSnapshot.Current());
            var problems = new List<string>(loaded.Errors);
            if (loaded.Config is { } config)
            {
                await using var backends = RuntimeBuilder.Backends(config, loggers);
                var snapshot = RuntimeBuilder.Snapshot(config, backends, loggers, new ProxyCounters(), out var pluginErrors);
                problems.AddRange(pluginErrors);
                snapshot.Plugins?.Retire();
            }
            if (problems.Count == 0)
            {
                Console.WriteLine($"{path}: configuration is valid");
                return 0;
            }
            Console.Error.WriteLine($"{path}: {problems.Count} problem(s)");
            foreach (string p in problems)
            {
                Console.Error.WriteLine($"  {p}");
            }
            return 1;
        }

        /// <summary>
        /// JSON lines; a full console queue drops the record instead of blocking the thread that logs, which may be a
        /// worker running a chatty plugin.
        /// </summary>
        private static void ConfigureConsole(ConsoleLoggerOptions options)
        {
            options.FormatterName = GatewayJsonFormatter.FormatterName;
            options.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite;
        }

        private static async Task<int> ServeAsync(string configPath)
        {
            ConfigLoadResult loaded = ConfigLoader.Load(configPath, EnvironmentSnapshot.Current());
            if (loaded.Config is null)
            {
                Console.Error.WriteLine($"{configPath}: {loaded.Errors.Count} problem(s); not starting");
                foreach (string p in loaded.Errors)
                {
                    Console.Error.WriteLine($"  {p}");
                }
                return 1;
            }
            SocketEventLoops.UseOnePerWorker(ProxyServer.WorkerCount(loaded.Config.Workers));
            var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            // Registered directly: AddConsoleFormatter binds its options by reflection, which AOT cannot keep.
            builder.Logging.AddConsole(ConfigureConsole);
            builder.Services.AddSingleton<ConsoleFormatter, GatewayJsonFormatter>();
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            // The host logs a start-up that failed with the exception's stack trace; GatewayService has already logged
            // each problem as a line of its own, and anything else still ends the process with its exception.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
            builder.Services.Configure<HostOptions>(o =>
                o.ShutdownTimeout = TimeSpan.FromMilliseconds(loaded.Config.Shutdown.ListenerCloseDelayMs + loaded.Config.Shutdown.DrainTimeoutMs + 5000));
            builder.Services.AddSingleton(new GatewayStartup(configPath, loaded));
            builder.Services.AddHostedService<GatewayService>();
            using IHost host = builder.Build();
            try
            {
                await host.RunAsync();
            }
            catch (GatewayStartException e)
            {
                Console.Error.WriteLine($"{configPath}: not starting");
                foreach (string p in e.Problems)
                {
                    Console.Error.WriteLine($"  {p}");
                }
                return 1;
            }
            return 0;
        }
    }
}
