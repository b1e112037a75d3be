#include "cli/docgen.h"

#include <algorithm>
#include <vector>

#include "app/options.h"
#include "base/text.h"

namespace cdi::cli {

namespace {

// One command of the tree: its words after "cdi-hook" and its CLI11 app.
struct Command {
  std::vector<std::string> path;
  const CLI::App* app;
  std::string words() const { return join(path, " "); }
};

void collect(const CLI::App* app, std::vector<std::string> path, std::vector<Command>& out) {
  out.push_back({path, app});
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; })) {
    auto next = path;
    next.push_back(sub->get_name());
    collect(sub, std::move(next), out);
  }
}

std::vector<Command> commands(const CLI::App& app) {
  std::vector<Command> out;
  collect(&app, {}, out);
  return out;
}

std::vector<std::string> subcommand_names(const CLI::App* app) {
  std::vector<std::string> out;
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; })) out.push_back(sub->get_name());
  return out;
}

std::vector<const CLI::Option*> flags_of(const CLI::App* app) {
  return app->get_options([](const CLI::Option* o) { return !o->get_positional(); });
}

std::vector<const CLI::Option*> positionals_of(const CLI::App* app) {
  return app->get_options([](const CLI::Option* o) { return o->get_positional(); });
}

bool takes_value(const CLI::Option* o) { return o->get_items_expected_max() > 0; }

std::vector<std::string> names_of(const CLI::Option* o) {
  std::vector<std::string> out;
  for (const auto& s : o->get_snames()) out.push_back("-" + s);
  for (const auto& l : o->get_lnames()) out.push_back("--" + l);
  return out;
}

std::string value_name(const CLI::Option* o) {
  std::string text = o->get_option_text();
  size_t b = text.find_first_not_of(' ');
  return b == std::string::npos ? std::string() : text.substr(b);
}

// The words an option's value may be: the table's choices, or "text|json".
std::string choices_of(const CLI::Option* o) {
  for (const auto& l : o->get_lnames()) {
    if (const auto* spec = app::find_option(l); spec != nullptr && !spec->choices.empty()) {
      return std::string(spec->choices);
    }
  }
  std::string v = value_name(o);
  if (v.find('|') == std::string::npos) return {};
  for (char& c : v) c = c == '|' ? ' ' : c;
  return v;
}

// --- roff ---

std::string roff(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out.front() == '.' || out.front() == '\'')) out = "\\&" + out;
  return out;
}

std::string synopsis(const Command& c) {
  std::string out = "cdi-hook " + c.words();
  if (!flags_of(c.app).empty()) out += " [OPTIONS]";
  for (const CLI::Option* p : positionals_of(c.app)) {
    std::string name = p->get_name(true, false);
    out += " " + (p->get_required() ? name : "[" + name + "]") + (p->get_expected_max() > 1 ? "..." : "");
  }
  if (c.words() == "runtime") out += " \\-\\- ARGS...";
  if (!c.app->get_subcommands([](const CLI::App*) { return true; }).empty()) out += " COMMAND";
  return out;
}

void man_option(std::string& out, const CLI::Option* o, bool positional) {
  out += ".TP\n";
  if (positional) {
    out += "\\fI" + roff(o->get_name(true, false)) + "\\fR\n";
  } else {
    std::vector<std::string> names;
    for (const auto& n : names_of(o)) names.push_back("\\fB" + roff(n) + "\\fR");
    std::string value = value_name(o);
    out += join(names, ", ") + (takes_value(o) && !value.empty() ? " \\fI" + roff(value) + "\\fR" : "") + "\n";
  }
  out += roff(o->get_description()) + "\n";
}

}  // namespace

std::string man_page(const CLI::App& app, std::string_view version) {
  std::string about = app.get_description();
  if (about.starts_with("cdi-hook: ")) about = about.substr(10);
  std::string out;
  out += ".TH CDI\\-HOOK 1 \"\" \"cdi\\-hook " + roff(version) + "\" \"User Commands\"\n";
  out += ".SH NAME\ncdi\\-hook, cdi\\-hook\\-runtime \\- " + roff(about) + "\n";
  out += ".SH SYNOPSIS\n.B cdi\\-hook\n\\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGUMENTS\\fR]\n.br\n";
  out += ".B cdi\\-hook\\-runtime\n\\fIRUNTIME\\-ARGUMENTS\\fR\n";
  out +=
      ".SH DESCRIPTION\n"
      "cdi\\-hook injects Container Device Interface (CDI) devices into OCI containers. It reads the "
      "container's OCI config, resolves the devices that its \\fBcdi.k8s.io/\\fR annotations (or "
      "\\fB\\-\\-device\\fR) request against the CDI specs in \\fI/etc/cdi\\fR and \\fI/var/run/cdi\\fR "
      "(later dirs win), merges their container edits and writes the adjusted config. It runs as an OCI "
      "hook, as a wrapper around the OCI runtime, or by hand.\n"
      ".PP\n"
      "Under the name \\fBcdi\\-hook\\-runtime\\fR (a link) it is the runtime wrapper with the runtime's "
      "own arguments, as engines call runc; its options then come from \\fI/etc/cdi\\-hook/runtime.conf\\fR "
      "and the environment (see ENVIRONMENT).\n";
  out += ".SH COMMANDS\n";
  for (const Command& c : commands(app)) {
    if (c.path.empty()) continue;
    out += ".SS \"" + roff(synopsis(c)) + "\"\n" + roff(c.app->get_description()) + "\n";
    for (const CLI::Option* p : positionals_of(c.app)) man_option(out, p, true);
    for (const CLI::Option* o : flags_of(c.app)) man_option(out, o, false);
  }
  out += ".SS \"Options of cdi\\-hook itself\"\n";
  for (const CLI::Option* o : flags_of(&app)) man_option(out, o, false);
  out +=
      ".SH \"EXIT STATUS\"\n"
      ".TP\n.B 0\nSuccess.\n"
      ".TP\n.B 1\nA failure of input, spec or injection: one line on standard error naming the file, the "
      "field (or device) and the problem; nothing was changed.\n"
      ".TP\n.B 2\nA usage error: a wrong command line, option or configuration value.\n";
  out +=
      ".SH ENVIRONMENT\n"
      "\\fBcdi\\-hook\\-runtime\\fR reads \\fI/etc/cdi\\-hook/runtime.conf\\fR (\\fINAME\\fR = "
      "\\fIVALUE\\fR lines, the long option names) and then these variables, which override it; an empty "
      "variable counts as unset.\n";
  for (const auto& o : app::option_table()) {
    if ((o.scopes & app::kRuntime) == 0 || o.env.empty()) continue;
    std::string list = o.repeatable ? std::string(", a list separated by '") + o.env_separator + "'" : "";
    out += ".TP\n.B " + roff(o.env) + "\nAs \\fB\\-\\-" + roff(o.name) + "\\fR" + roff(list) + ".\n";
  }
  out +=
      ".TP\n.B CDI_HOOK_RUNTIME_CONFIG\nAnother configuration file instead of "
      "\\fI/etc/cdi\\-hook/runtime.conf\\fR; \\fBnone\\fR for none.\n";
  out +=
      ".SH FILES\n"
      ".TP\n.I /etc/cdi, /var/run/cdi\nThe CDI spec directories, in increasing priority.\n"
      ".TP\n.I /etc/cdi\\-hook/runtime.conf\nThe runtime wrapper's options.\n"
      ".TP\n.I /run/cdi\\-hook\nThe spec kind index (root; \\fI$XDG_RUNTIME_DIR/cdi\\-hook\\fR otherwise).\n";
  out +=
      ".SH \"SEE ALSO\"\n"
      "\\fBrunc\\fR(8), \\fBoci\\-hooks\\fR(5), the CDI specification "
      "(https://github.com/cncf\\-tags/container\\-device\\-interface).\n";
  return out;
}

std::string bash_completion(const CLI::App& app) {
  std::string subs;
  std::string opts;
  std::string valued;
  std::string choices;
  std::vector<std::string> seen_choice_names;
  for (const Command& c : commands(app)) {
    std::string key = "\"" + c.words() + "\"";
    std::vector<std::string> all;
    std::vector<std::string> with_value;
    for (const CLI::Option* o : flags_of(c.app)) {
      auto names = names_of(o);
      all.insert(all.end(), names.begin(), names.end());
      if (!takes_value(o)) continue;
      with_value.insert(with_value.end(), names.begin(), names.end());
      std::string words = choices_of(o);
      std::string pattern = join(names, "|");
      if (words.empty() ||
          std::find(seen_choice_names.begin(), seen_choice_names.end(), pattern) != seen_choice_names.end()) {
        continue;
      }
      seen_choice_names.push_back(pattern);
      choices += "    " + pattern + ") echo \"" + words + "\" ;;\n";
    }
    if (auto names = subcommand_names(c.app); !names.empty())
      subs += "    " + key + ") echo \"" + join(names, " ") + "\" ;;\n";
    opts += "    " + key + ") echo \"" + join(all, " ") + "\" ;;\n";
    if (!with_value.empty()) valued += "    " + key + ") echo \"" + join(with_value, " ") + "\" ;;\n";
  }
  std::string out =
      "# bash completion for cdi-hook (generated by 'cdi-hook __generate bash' from its command tree)\n"
      "_cdi_hook_subcommands() {\n  case \"$1\" in\n" +
      subs + "  esac\n}\n" + "_cdi_hook_options() {\n  case \"$1\" in\n" + opts + "  esac\n}\n" +
      "_cdi_hook_options_with_value() {\n  case \"$1\" in\n" + valued + "  esac\n}\n" +
      "_cdi_hook_choices() {\n  case \"$1\" in\n" + choices + "  esac\n}\n" +
      R"BASH(_cdi_hook() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path="" word i skip=0
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    if ((skip)); then skip=0; continue; fi
    # After --, the words are the runtime's own arguments.
    [[ $word == -- ]] && return 0
    if [[ " $(_cdi_hook_options_with_value "$path") " == *" $word "* ]]; then skip=1; continue; fi
    if [[ $word != -* && " $(_cdi_hook_subcommands "$path") " == *" $word "* ]]; then
      path=${path:+$path }$word
    fi
  done
  if ((COMP_CWORD > 1)) && [[ " $(_cdi_hook_options_with_value "$path") " == *" $prev "* ]]; then
    local words
    words=$(_cdi_hook_choices "$prev")
    if [[ -n $words ]]; then
      COMPREPLY=($(compgen -W "$words" -- "$cur"))
    else
      COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$(_cdi_hook_options "$path")" -- "$cur"))
    return 0
  fi
  local subs
  subs=$(_cdi_hook_subcommands "$path")
  if [[ -n $subs ]]; then
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _cdi_hook cdi-hook
)BASH";
  return out;
}

std::string zsh_completion(const CLI::App& app) {
  return "#compdef cdi-hook\n"
         "# zsh completion for cdi-hook: the bash completion through zsh's bashcompinit.\n"
         "autoload -U +X bashcompinit && bashcompinit\n" +
         bash_completion(app);
}

std::string fish_completion(const CLI::App& app) {
  auto single_quoted = [](std::string_view s) {
    std::string out = "'";
    for (char c : s) {
      if (c == '\'' || c == '\\') out += '\\';
      out += c;
    }
    return out + "'";
  };
  std::string out = "# fish completion for cdi-hook (generated by 'cdi-hook __generate fish' from its command tree)\n";
  out += "complete -c cdi-hook -f\n";
  for (const Command& c : commands(app)) {
    // When this command is the one being completed: its path seen, none of its subcommands yet.
    std::string when;
    if (c.path.empty()) {
      when = "__fish_use_subcommand";
    } else {
      when = "__fish_seen_subcommand_from " + c.path.back();
    }
    auto subs = subcommand_names(c.app);
    if (!subs.empty() && !c.path.empty()) when += "; and not __fish_seen_subcommand_from " + join(subs, " ");
    for (const CLI::App* sub : c.app->get_subcommands([](const CLI::App*) { return true; })) {
      out += "complete -c cdi-hook -n " + single_quoted(when) + " -a " + sub->get_name() + " -d " +
             single_quoted(sub->get_description()) + "\n";
    }
    if (c.path.empty()) continue;
    for (const CLI::Option* o : flags_of(c.app)) {
      std::string line = "complete -c cdi-hook -n " + single_quoted(when);
      for (const auto& s : o->get_snames()) line += " -s " + s;
      for (const auto& l : o->get_lnames()) line += " -l " + l;
      if (takes_value(o)) {
        std::string words = choices_of(o);
        line += words.empty() ? " -r -F" : " -x -a " + single_quoted(words);
      }
      out += line + " -d " + single_quoted(o->get_description()) + "\n";
    }
  }
  return out;
}

}  // namespace cdi::cli
