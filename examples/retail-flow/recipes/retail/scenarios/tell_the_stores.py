from dataiku.scenario import Scenario

# Tell the stores their sales are refreshed: the last step of the nightly scenario.
scenario = Scenario()
print("store sales refreshed at", scenario.get_all_variables().get("last_nightly"))
