"""Directory events the entities service publishes: users, departments, absences, role grants.

Other services keep their own copy of the directory from these (see ``conveyor_access.directory``)
to evaluate access rights and to resolve tasks assigned to a role or a department head.
"""
