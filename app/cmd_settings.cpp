// The settings options `run` and `serve` share (see commands.hpp).
#include <CLI/CLI.hpp>

#include "app/commands.hpp"

namespace sipfleet::app {

void settings_cli::add_to(CLI::App& cmd, const std::set<std::string>& names,
                          const std::map<std::string, std::string>& shown) {
  cmd.add_option("--config", config, "YAML file with the same option names (e.g. 'register-rate: 500'); flags win");
  for (const auto& [name, def] : run_option_defaults()) {
    if (name == "quiet" || (!names.empty() && !names.contains(name))) continue;  // --quiet is a flag
    const auto it = shown.find(name);
    const std::string& show = it != shown.end() ? it->second : def;
    options[name] = cmd.add_option("--" + name, values[name],
                                   option_help().at(name) + (show.empty() ? "" : " [default: " + show + "]"));
  }
}

sip::result<raw_settings> settings_cli::merged() const {
  raw_settings raw;
  if (!config.empty()) {
    auto file = read_yaml_settings(config);
    if (!file) return file.err();
    raw = std::move(file).value();
  }
  for (const auto& [name, opt] : options)
    if (opt->count() > 0) raw[name] = values.at(name);  // flags win over the file
  return raw;
}

}  // namespace sipfleet::app
